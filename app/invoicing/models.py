"""The create-invoice request and result (DESIGN §6 contract), validated before any Stripe call.

Limits follow Stripe's: amounts are integers in the currency's minor unit and at most eight digits
(99999999, i.e. $999,999.99), an invoice holds at most 250 lines, and a send_invoice `due_date`
must not be in the past. Checks that need the catalog (price exists, is active and one-time,
one currency across catalog and custom lines) happen in `app.invoicing.lines`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

MAX_AMOUNT = 99_999_999  # Stripe's eight-digit ceiling, in minor units
MAX_QUANTITY = 100_000
MAX_LINES = 250
MAX_DESCRIPTION = 250
MAX_DUE_DAYS = 3650  # Stripe accepts due dates up to ten years ahead (`days_until_due` <= 3650)
RECORD_ID = r"^[A-Za-z0-9_\-:.]{1,100}$"
_CURRENCY = re.compile(r"[a-z]{3}")
_LINE_TAGS = ("catalog", "custom")

ObjectSlug = Literal["people", "companies"]


def today_utc() -> date:
    return datetime.now(UTC).date()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class CatalogLine(_Strict):
    """A price from the Stripe catalog (must be active and one-time)."""

    price_id: str = Field(pattern=r"^[A-Za-z0-9_]{1,255}$")
    quantity: StrictInt = Field(default=1, ge=1, le=MAX_QUANTITY)


class CustomLine(_Strict):
    """A one-off line: `unit_amount` in the currency's minor unit (cents; yen for JPY)."""

    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    unit_amount: StrictInt = Field(ge=1, le=MAX_AMOUNT)
    currency: str
    quantity: StrictInt = Field(default=1, ge=1, le=MAX_QUANTITY)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if not _CURRENCY.fullmatch(value):
                raise ValueError("must be a three-letter ISO currency code such as usd")
        return value

    @model_validator(mode="after")
    def _line_total(self) -> CustomLine:
        if self.unit_amount * self.quantity > MAX_AMOUNT:
            raise ValueError(f"unit_amount × quantity must not exceed {MAX_AMOUNT} (Stripe's limit)")
        return self


def _plain_message(loc: tuple[int | str, ...], err: Any) -> str:
    """Pydantic's wording for the common mistakes, rephrased for the person filling the form."""
    kind, ctx, field = err["type"], err.get("ctx") or {}, str(loc[-1]) if loc else ""
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        if field == "unit_amount":
            return "must be a whole number in the currency's smallest unit (cents; yen for JPY)"
        return "must be a whole number"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "string_pattern_mismatch":
        return "is not a valid id"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short" and field == "line_items":
        return "add at least one line"
    if kind == "too_long" and field == "line_items":
        return f"an invoice can have at most {MAX_LINES} lines"
    if kind == "model_type" and len(loc) == 2 and loc[0] == "line_items":
        return "must be {price_id, quantity} or {description, unit_amount, currency, quantity}"
    if kind == "literal_error" and field == "object":
        return "must be 'people' or 'companies'"
    if kind == "bool_type":
        return "must be true or false"
    message = str(err.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def _line_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "catalog" if "price_id" in value else "custom"
    return "catalog" if isinstance(value, CatalogLine) else "custom"


LineItem = Annotated[
    Annotated[CatalogLine, Tag("catalog")] | Annotated[CustomLine, Tag("custom")],
    Discriminator(_line_kind),
]


class CreateInvoiceRequest(_Strict):
    """`POST /api/actions/create-invoice` (contract)."""

    object: ObjectSlug
    record_id: str = Field(pattern=RECORD_ID)
    person_record_id: str | None = Field(default=None, pattern=RECORD_ID)
    line_items: list[LineItem] = Field(min_length=1, max_length=MAX_LINES)
    due_date: date
    send_email: StrictBool = False

    @model_validator(mode="wrap")
    @classmethod
    def _plain_locations(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> CreateInvoiceRequest:
        """Drop pydantic's union tags from error locations: `line_items.0.quantity`, not
        `line_items.0.catalog.quantity`, so a form can put the message next to its field."""
        try:
            result: CreateInvoiceRequest = handler(data)
        except ValidationError as exc:
            errors: list[Any] = []
            for err in exc.errors():
                loc = err["loc"]
                if len(loc) >= 3 and loc[0] == "line_items" and loc[2] in _LINE_TAGS:
                    loc = (*loc[:2], *loc[3:])
                message = PydanticCustomError(err["type"], _plain_message(loc, err))
                errors.append({"type": message, "loc": loc, "input": err.get("input")})
            raise ValidationError.from_exception_data(exc.title, errors) from None
        return result

    @field_validator("due_date", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("must be a date written YYYY-MM-DD")
        return value.strip()

    @field_validator("due_date")
    @classmethod
    def _not_past(cls, value: date) -> date:
        today = today_utc()
        if value < today:
            raise ValueError(f"must be today ({today.isoformat()}, UTC) or later")
        if value > today + timedelta(days=MAX_DUE_DAYS):
            raise ValueError("must be within ten years")
        return value

    @field_validator("line_items")
    @classmethod
    def _one_currency(cls, lines: list[CatalogLine | CustomLine]) -> list[CatalogLine | CustomLine]:
        currencies = {line.currency for line in lines if isinstance(line, CustomLine)}
        if len(currencies) > 1:
            raise ValueError(
                "all lines must use one currency (an invoice has a single currency); got "
                + ", ".join(sorted(c.upper() for c in currencies))
            )
        return lines

    def due_timestamp(self) -> int:
        """A due date D means the end of day D in UTC, so today is a valid due date."""
        end = datetime.combine(self.due_date, datetime.max.time().replace(microsecond=0), tzinfo=UTC)
        return int(end.timestamp())


class CreateInvoiceResult(BaseModel):
    """The contract response, plus what the dialog shows (extensions, never renames)."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str | None
    status: str
    amount_due: int
    currency: str
    hosted_invoice_url: str | None
    customer_id: str
    customer_created: bool
    # extensions
    invoice_pdf: str | None = None
    amount_due_display: str = ""
    customer_email: str = ""
    email_sent: bool = False
    email_error: str | None = None
    crm_sync: Literal["created", "updated", "unchanged", "skipped", "failed"] = "skipped"
    crm_record_id: str | None = None
    crm_sync_error: str | None = None

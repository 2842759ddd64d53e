"""A Stripe invoice as blocks report it (pure mapping, shared by the triggers and the status step)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.money import major_json


class InvoiceSummary(BaseModel):
    id: str
    number: str | None = None
    status: str | None = None
    currency: str = Field(description="ISO 4217 code, upper case")
    amount_due: int = Field(description="minor units (cents; yen for JPY)")
    amount_paid: int
    amount_remaining: int
    total: int
    amount_due_major: int | float = Field(description="major units: 1234 USD cents -> 12.34")
    amount_paid_major: int | float
    amount_remaining_major: int | float
    total_major: int | float
    customer_id: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    due_date: str | None = Field(default=None, description="YYYY-MM-DD (UTC)")
    livemode: bool = False
    person_id: str | None = Field(default=None, description="the linked CRM person record, if any")


def _customer_id(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return value if isinstance(value, str) else None


def _date(epoch: Any) -> str | None:
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        return None
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


def _amount(invoice: dict[str, Any], name: str) -> int:
    value = invoice.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def invoice_summary(invoice: dict[str, Any], person_id: str | None = None) -> InvoiceSummary:
    """Stripe's invoice object (a plain dict) -> the summary every block outcome carries."""
    currency = str(invoice.get("currency") or "usd")
    amounts: dict[str, Any] = {n: _amount(invoice, n) for n in ("amount_due", "amount_paid", "amount_remaining", "total")}
    majors: dict[str, Any] = {f"{n}_major": major_json(v, currency) for n, v in amounts.items()}
    return InvoiceSummary(
        id=str(invoice["id"]),
        number=invoice.get("number"),
        status=invoice.get("status"),
        currency=currency.upper(),
        **amounts,
        **majors,
        customer_id=_customer_id(invoice.get("customer")),
        customer_email=invoice.get("customer_email"),
        customer_name=invoice.get("customer_name"),
        hosted_invoice_url=invoice.get("hosted_invoice_url"),
        invoice_pdf=invoice.get("invoice_pdf"),
        due_date=_date(invoice.get("due_date")),
        livemode=bool(invoice.get("livemode")),
        person_id=person_id,
    )

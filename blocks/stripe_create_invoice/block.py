"""`stripe.create_invoice`: the Create Invoice record action as a step (same service, same checks)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from app.invoicing.models import MAX_DUE_DAYS, MAX_LINES, RECORD_ID, CreateInvoiceResult, LineItem, today_utc
from blocks.base import BlockConfig, BlockDefinition
from blocks.stripe_create_invoice.execute import execute


class CreateInvoiceConfig(BlockConfig):
    """The create-invoice request (contract), plus `days_until_due` so a saved workflow can say
    "due in 30 days" instead of a fixed date that will one day be in the past."""

    object: Literal["people", "companies"]
    record_id: str = Field(pattern=RECORD_ID)
    person_record_id: str | None = Field(default=None, pattern=RECORD_ID)
    line_items: list[LineItem] = Field(min_length=1, max_length=MAX_LINES)
    due_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    days_until_due: int | None = Field(default=None, ge=0, le=MAX_DUE_DAYS, description="instead of due_date")
    send_email: bool = False

    @field_validator("due_date")
    @classmethod
    def _not_past(cls, value: str | None) -> str | None:
        if value is not None and date.fromisoformat(value) < today_utc():
            raise ValueError(f"{value} is in the past; use days_until_due for a date relative to the run")
        return value

    @model_validator(mode="after")
    def _one_due(self) -> CreateInvoiceConfig:
        if (self.due_date is None) == (self.days_until_due is None):
            raise ValueError("give exactly one of due_date and days_until_due")
        return self


BLOCK = BlockDefinition(
    id="stripe.create_invoice",
    kind="step",
    title="Create invoice",
    description="Create, finalize and (optionally) email a Stripe invoice for a CRM person or company, "
    "with the same validation as the Create Invoice action.",
    config_model=CreateInvoiceConfig,
    outcome_model=CreateInvoiceResult,
    execute=execute,
)

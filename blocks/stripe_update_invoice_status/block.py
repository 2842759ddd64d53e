"""`stripe.update_invoice_status`: finalize, send, pay (out of band), void or mark uncollectible."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from blocks.base import BlockConfig, BlockDefinition
from blocks.invoice_outcome import InvoiceSummary
from blocks.stripe_update_invoice_status.execute import execute

Action = Literal["finalize", "send", "pay", "void", "mark_uncollectible"]


class UpdateInvoiceStatusConfig(BlockConfig):
    invoice_id: str = Field(min_length=3, max_length=120, description="e.g. {{ trigger.invoice.id }}")
    action: Action


class UpdateInvoiceStatusOutcome(BaseModel):
    invoice_id: str
    action: str
    status: str | None
    invoice: InvoiceSummary


BLOCK = BlockDefinition(
    id="stripe.update_invoice_status",
    kind="step",
    title="Update invoice status",
    description="Finalize, send, pay (marked paid out of band), void or mark an invoice uncollectible. "
    "A transition Stripe does not allow (e.g. voiding a paid invoice) fails without retrying.",
    config_model=UpdateInvoiceStatusConfig,
    outcome_model=UpdateInvoiceStatusOutcome,
    execute=execute,
)

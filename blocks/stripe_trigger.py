"""What the four Stripe invoice triggers share: one webhook feeds them all, and each fires with the
same outcome shape (the event, and the invoice as `invoice`), so `{{ trigger.invoice.id }}` works
whichever of them starts a workflow."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from blocks.base import BlockDefinition, NoConfig
from blocks.invoice_outcome import InvoiceSummary, invoice_summary


class StripeInvoiceTriggerOutcome(BaseModel):
    event_id: str
    event_type: str
    created: int
    invoice: InvoiceSummary


def stripe_invoice_trigger(block_id: str, event_type: str, title: str, description: str) -> BlockDefinition:
    return BlockDefinition(
        id=block_id,
        kind="trigger",
        title=title,
        description=description,
        config_model=NoConfig,
        outcome_model=StripeInvoiceTriggerOutcome,
        stripe_event=event_type,
    )


def trigger_outcome(event: dict[str, Any], person_id: str | None) -> dict[str, Any]:
    """A stored Stripe event -> the trigger outcome (pure)."""
    invoice = event["data"]["object"]
    outcome = StripeInvoiceTriggerOutcome(
        event_id=str(event["id"]),
        event_type=str(event["type"]),
        created=int(event.get("created") or 0),
        invoice=invoice_summary(invoice, person_id),
    )
    return outcome.model_dump(mode="json")

"""`stripe.invoice_paid`: fires on Stripe's `invoice.paid` event (fed by the workspace's one webhook)."""

from __future__ import annotations

from blocks.stripe_trigger import stripe_invoice_trigger

BLOCK = stripe_invoice_trigger(
    "stripe.invoice_paid",
    "invoice.paid",
    "Invoice paid",
    "An invoice was paid in full (by card, or marked paid out of band).",
)

"""`stripe.invoice_voided`: fires on Stripe's `invoice.voided` event (fed by the workspace's one webhook)."""

from __future__ import annotations

from blocks.stripe_trigger import stripe_invoice_trigger

BLOCK = stripe_invoice_trigger(
    "stripe.invoice_voided",
    "invoice.voided",
    "Invoice voided",
    "An invoice was voided.",
)

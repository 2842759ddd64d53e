"""`stripe.invoice_finalized`: fires on Stripe's `invoice.finalized` event (fed by the workspace's one webhook)."""

from __future__ import annotations

from blocks.stripe_trigger import stripe_invoice_trigger

BLOCK = stripe_invoice_trigger(
    "stripe.invoice_finalized",
    "invoice.finalized",
    "Invoice finalized",
    "An invoice was finalized: it has a number and can be paid.",
)

"""`stripe.invoice_payment_failed`: fires on Stripe's `invoice.payment_failed` event (fed by the workspace's one webhook)."""

from __future__ import annotations

from blocks.stripe_trigger import stripe_invoice_trigger

BLOCK = stripe_invoice_trigger(
    "stripe.invoice_payment_failed",
    "invoice.payment_failed",
    "Invoice payment failed",
    "A payment attempt for an invoice failed.",
)

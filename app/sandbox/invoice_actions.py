"""The invoice state machine.

draft -> open (finalize) -> paid | void | uncollectible; uncollectible -> paid | void.
paid and void are terminal. Each transition is validated before anything changes and emits
exactly one event (a charge that pays also emits `invoice.payment_succeeded`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.sandbox import events, invoices
from app.sandbox.errors import StripeError, invalid_param, state_error
from app.sandbox.models import Account, Invoice
from app.sandbox.state import EmulatorState

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext


def hosted_urls(base_url: str, invoice_id: str) -> tuple[str, str]:
    page = f"{base_url}/hosted/invoices/{invoice_id}"
    return page, f"{page}/pdf"


def assign_number(account: Account) -> str:
    account.invoice_sequence += 1
    return f"{account.invoice_prefix}-{account.invoice_sequence:04d}"


def _require(invoice: Invoice, allowed: tuple[str, ...], action: str) -> None:
    if invoice.status not in allowed:
        wanted = " or ".join(allowed)
        raise state_error(
            f"You can only {action} an invoice whose status is {wanted}; the status of "
            f"invoice {invoice.id} is {invoice.status}.",
        )


def _emit(ctx: ApiContext, invoice: Invoice, *types: str) -> dict[str, Any]:
    snapshot = invoices.render(ctx.templates, invoice)
    for event_type in types:
        events.emit(ctx.state, ctx.account, event_type, snapshot, ctx=ctx)
    return snapshot


def _mark_paid(invoice: Invoice, now: int) -> None:
    invoice.status = "paid"
    invoice.amount_paid = invoice.total
    invoice.paid_at = now


def finalize(ctx: ApiContext) -> dict[str, Any]:
    invoice = invoices.get(ctx, ctx.path("id"))
    form = ctx.form.only(("auto_advance",))
    auto_advance = form.boolean("auto_advance")
    if invoice.status != "draft":
        raise state_error("This invoice is already finalized, you can't re-finalize a "
                          "non-draft invoice.", code="invoice_not_editable")
    fixed_due = invoice.days_until_due is None and invoice.due_date is not None
    if fixed_due and invoice.due_date is not None and invoice.due_date <= ctx.now:
        raise invalid_param("due_date", "Invoice due dates must be in the future; update "
                                "the draft's due_date before finalizing it.")
    customer = ctx.account.customers.get(invoice.customer)
    if customer is not None:
        invoice.customer_email = customer.email
        invoice.customer_name = customer.name
        invoice.customer_phone = customer.phone
        customer.currency = customer.currency or invoice.currency or invoices.DEFAULT_CURRENCY
    invoice.currency = invoice.currency or invoices.DEFAULT_CURRENCY
    invoice.status = "open"
    invoice.finalized_at = ctx.now
    if invoice.days_until_due is not None:
        invoice.due_date = ctx.now + invoice.days_until_due * 86_400
    if auto_advance is not None:
        invoice.auto_advance = auto_advance
    invoice.number = assign_number(ctx.account)
    invoice.hosted_invoice_url, invoice.invoice_pdf = hosted_urls(ctx.base_url, invoice.id)
    snapshot = _emit(ctx, invoice, "invoice.finalized")
    if invoice.total == 0:
        # As on Stripe, an invoice with nothing to pay is paid as soon as it is finalized.
        _mark_paid(invoice, ctx.now)
        snapshot = _emit(ctx, invoice, "invoice.paid")
    return snapshot


def send(ctx: ApiContext) -> dict[str, Any]:
    invoice = invoices.get(ctx, ctx.path("id"))
    ctx.form.only(())
    _require(invoice, ("open",), "send")
    if invoice.collection_method != "send_invoice":
        raise state_error("You can only manually send an invoice if its collection method is "
                          "'send_invoice'.", code="invoice_not_editable")
    if not invoice.customer_email:
        raise StripeError(400, "The customer has no email address, so the invoice cannot be "
                          "sent. Set the customer's email first.", code="email_invalid",
                          param="customer")
    invoice.sent_count += 1
    return _emit(ctx, invoice, "invoice.sent")


def pay(ctx: ApiContext) -> dict[str, Any]:
    invoice = invoices.get(ctx, ctx.path("id"))
    form = ctx.form.only(("paid_out_of_band", "forgive", "mandate", "off_session",
                          "payment_method", "source"))
    out_of_band = bool(form.boolean("paid_out_of_band"))
    form.boolean("forgive")
    form.boolean("off_session")
    _require(invoice, ("open", "uncollectible"), "pay")
    _mark_paid(invoice, ctx.now)
    invoice.paid_out_of_band = out_of_band
    if out_of_band:
        return _emit(ctx, invoice, "invoice.paid")
    invoice.attempted = True
    invoice.attempt_count += 1
    return _emit(ctx, invoice, "invoice.paid", "invoice.payment_succeeded")


def void(ctx: ApiContext) -> dict[str, Any]:
    invoice = invoices.get(ctx, ctx.path("id"))
    ctx.form.only(())
    _require(invoice, ("open", "uncollectible"), "void")
    invoice.status = "void"
    invoice.voided_at = ctx.now
    return _emit(ctx, invoice, "invoice.voided")


def mark_uncollectible(ctx: ApiContext) -> dict[str, Any]:
    invoice = invoices.get(ctx, ctx.path("id"))
    ctx.form.only(())
    _require(invoice, ("open",), "mark as uncollectible")
    invoice.status = "uncollectible"
    invoice.marked_uncollectible_at = ctx.now
    return _emit(ctx, invoice, "invoice.marked_uncollectible")


def record_failed_payment(state: EmulatorState, account: Account,
                          invoice_id: str) -> dict[str, Any]:
    """Admin: a charge attempt on an open invoice failed."""
    invoice = account.invoices.get(invoice_id)
    if invoice is None:
        raise KeyError(f"no such invoice: {invoice_id}")
    if invoice.status not in ("open", "uncollectible"):
        raise ValueError(f"invoice {invoice_id} is {invoice.status}; only open or "
                         "uncollectible invoices can fail a payment")
    invoice.attempted = True
    invoice.attempt_count += 1
    snapshot = invoices.render(state.templates, invoice)
    events.emit(state, account, "invoice.payment_failed", snapshot)
    return snapshot

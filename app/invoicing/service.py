"""Create Invoice (DESIGN §5): validate everything, then at most lookup, [create customer], draft,
one add_lines, finalize, [send]; delete the draft if a step after it fails; mirror to the CRM.

Shared by the HTTP action and the workflow step `stripe.create_invoice`.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, Literal

from app.connection.service import require_gateway
from app.errors import AppError, ErrorCode, validation_error
from app.invoicing.catalog import CatalogPrice, active_prices, price_from_stripe
from app.invoicing.customers import ResolvedCustomer, resolve_customer
from app.invoicing.lines import PlannedLines, plan_lines, unknown_price_ids
from app.invoicing.models import CatalogLine, CreateInvoiceRequest, CreateInvoiceResult
from app.invoicing.recipients import Recipient, pick_recipient, recipient_choices
from app.money import format_amount
from app.stripe.idempotency import idempotency_key
from app.sync.upsert import Snapshot, upsert_invoices

if TYPE_CHECKING:
    from app.context import AppContext
    from app.stripe.gateway import StripeGateway

log = logging.getLogger(__name__)

# Price ids outside the cached catalog (newer than the cache, or past its first 100 prices) are
# read one by one; more unknown ids than this in one request are refused without asking Stripe.
MAX_UNCACHED_PRICES = 5
# A retried run walks past drafts that an earlier attempt of the same run deleted (see `_issue`).
MAX_GENERATIONS = 10

CrmSync = Literal["created", "updated", "unchanged", "skipped", "failed"]


async def create_invoice(
    ctx: AppContext,
    workspace_id: str,
    req: CreateInvoiceRequest,
    *,
    execution_id: str | None = None,
) -> CreateInvoiceResult:
    """Create, finalize and (when `req.send_email`) email one invoice for a CRM record.

    Every check that can fail on the request's content runs before the first Stripe write, so a
    refused request leaves nothing in Stripe. Idempotency keys derive from `execution_id` when
    given (a workflow step: re-running it returns the same invoice) and from a fresh id otherwise.
    If emailing fails the invoice stays finalized and the result says so (`email_error`); any
    other failure after the draft exists deletes the draft and raises an AppError in plain words.
    """
    choices = await recipient_choices(ctx.crm(workspace_id), req.object, req.record_id)
    recipient = pick_recipient(choices, req.person_record_id)
    gateway = await require_gateway(ctx, workspace_id)
    planned = plan_lines(req.line_items, await _catalog_for(ctx, workspace_id, gateway, req))

    customer = await resolve_customer(ctx, workspace_id, gateway, recipient)
    run_id = execution_id or f"req_{secrets.token_hex(12)}"
    issued = await _issue(gateway, workspace_id, run_id, req, recipient, customer, planned)
    invoice, email_error = issued, None
    if req.send_email:
        try:
            invoice = await gateway.send_invoice(issued["id"], _key(workspace_id, run_id, issued["id"], "invoice.send"))
        except AppError as exc:
            email_error = f"Invoice {issued.get('number')} was finalized but could not be emailed: {exc.message}"
            log.warning("invoice email failed", extra={"workspace_id": workspace_id, "invoice": issued["id"],
                                                       "error": exc.message})
    ctx.metrics.invoices_created.inc()
    log.info("invoice created", extra={"workspace_id": workspace_id, "invoice": invoice["id"],
                                       "lines": len(req.line_items), "customer_created": customer.created})
    sync, record_id, sync_error = await _mirror(ctx, workspace_id, gateway, invoice)
    return _result(invoice, customer, recipient, req.send_email and email_error is None, email_error,
                   sync, record_id, sync_error)


async def _catalog_for(
    ctx: AppContext, workspace_id: str, gateway: StripeGateway, req: CreateInvoiceRequest
) -> dict[str, CatalogPrice]:
    """The prices the request may use: the cached catalog (no Stripe call when warm), plus any
    price id it does not hold, read one by one."""
    if not any(isinstance(line, CatalogLine) for line in req.line_items):
        return {}
    catalog = {p.price_id: p for p in await active_prices(ctx, workspace_id, gateway)}
    unknown = unknown_price_ids(req.line_items, catalog)
    if len(unknown) > MAX_UNCACHED_PRICES:
        raise validation_error(f"{len(unknown)} of the prices are not in your Stripe catalog: "
                               + ", ".join(unknown[:10]), line_items="unknown prices")
    for price_id in unknown:
        try:
            catalog[price_id] = price_from_stripe(await gateway.retrieve_price(price_id))
        except AppError as exc:
            if exc.code is not ErrorCode.NOT_FOUND:
                raise
    return catalog


class _StepFailed(Exception):
    def __init__(self, action: str, error: AppError) -> None:
        super().__init__(action)
        self.action = action
        self.error = error


async def _issue(
    gateway: StripeGateway,
    workspace_id: str,
    run_id: str,
    req: CreateInvoiceRequest,
    recipient: Recipient,
    customer: ResolvedCustomer,
    planned: PlannedLines,
) -> dict[str, Any]:
    """Draft, lines, finalize: the finalized invoice, or the draft is deleted and an error raised.

    A retried run (same `run_id`) replays the same idempotency keys and so gets the same invoice
    back. If an earlier attempt failed and deleted its draft, the replayed draft is gone: Stripe
    then answers 404 and the next generation of keys starts a fresh draft.
    """
    params = {
        "customer": customer.id,
        "collection_method": "send_invoice",
        "due_date": req.due_timestamp(),
        "auto_advance": False,
        "currency": planned.currency,
        "pending_invoice_items_behavior": "exclude",
        "metadata": {
            "workspace_id": workspace_id,
            "crm_object": req.object,
            "crm_record_id": req.record_id,
            "crm_person_id": recipient.person.id,
        },
    }
    for generation in range(MAX_GENERATIONS):
        base = f"{run_id}:{generation}"
        draft = await gateway.create_invoice(params, _key(workspace_id, base, "", "invoice.create"))
        try:
            return await _complete(gateway, workspace_id, base, draft["id"], planned)
        except _StepFailed as failed:
            outcome = await _discard_draft(gateway, draft["id"])
            if outcome == "gone":
                continue
            if outcome == "finalized":
                return await gateway.retrieve_invoice(draft["id"])
            raise _failure(failed, draft["id"], outcome) from failed.error
    raise AppError(ErrorCode.CONFLICT, "This run was retried too often; start a new one to create the invoice.")


async def _complete(gateway: StripeGateway, workspace_id: str, base: str, invoice_id: str,
                    planned: PlannedLines) -> dict[str, Any]:
    try:
        await gateway.add_lines(invoice_id, planned.params, _key(workspace_id, base, invoice_id, "invoice.add_lines"))
    except AppError as exc:
        raise _StepFailed("add the invoice lines", exc) from exc
    try:
        return await gateway.finalize_invoice(invoice_id, _key(workspace_id, base, invoice_id, "invoice.finalize"))
    except AppError as exc:
        raise _StepFailed("finalize the invoice", exc) from exc


DiscardOutcome = Literal["deleted", "gone", "finalized", "kept"]


async def _discard_draft(gateway: StripeGateway, invoice_id: str) -> DiscardOutcome:
    try:
        await gateway.delete_draft(invoice_id)
        return "deleted"
    except AppError as exc:
        if exc.code is ErrorCode.NOT_FOUND:
            return "gone"
        log.warning("could not delete the draft invoice", extra={"invoice": invoice_id, "error": exc.message})
    # Stripe refuses to delete a non-draft: the failed finalize may have gone through after all.
    try:
        current = await gateway.retrieve_invoice(invoice_id)
    except AppError:
        return "kept"
    return "finalized" if current.get("status") not in (None, "draft") else "kept"


def _failure(failed: _StepFailed, invoice_id: str, outcome: DiscardOutcome) -> AppError:
    cleanup = ("The draft was deleted, so nothing was billed." if outcome in ("deleted", "gone")
               else f"The draft {invoice_id} could not be deleted; delete it in the Stripe dashboard.")
    return AppError(
        failed.error.code,
        f"Could not {failed.action}: {failed.error.message} {cleanup}",
        fields=failed.error.fields,
        detail=failed.error.detail,
    )


def _key(workspace_id: str, base: str, invoice_id: str, operation: str) -> str:
    return idempotency_key(workspace_id, operation, base, invoice_id)


async def _mirror(
    ctx: AppContext, workspace_id: str, gateway: StripeGateway, invoice: dict[str, Any]
) -> tuple[CrmSync, str | None, str | None]:
    """Write the invoice to the CRM now (the webhook confirms it later); `skipped` when sync is off."""
    try:
        outcomes = await upsert_invoices(ctx, workspace_id, [Snapshot(invoice, int(time.time()))], gateway=gateway)
    except Exception as exc:  # the invoice exists: a CRM hiccup must not turn it into an error
        message = exc.message if isinstance(exc, AppError) else "unexpected error"
        log.warning("crm upsert after create failed", exc_info=not isinstance(exc, AppError),
                    extra={"workspace_id": workspace_id, "invoice": invoice["id"], "error": message})
        return "failed", None, f"The invoice was created, but writing it to the CRM failed: {message}"
    if not outcomes:
        return "skipped", None, None
    return outcomes[0].result, outcomes[0].record_id, None


def _result(
    invoice: dict[str, Any],
    customer: ResolvedCustomer,
    recipient: Recipient,
    email_sent: bool,
    email_error: str | None,
    sync: CrmSync,
    record_id: str | None,
    sync_error: str | None,
) -> CreateInvoiceResult:
    currency = str(invoice.get("currency") or "usd")
    amount_due = int(invoice.get("amount_due") or 0)
    return CreateInvoiceResult(
        invoice_id=invoice["id"],
        number=invoice.get("number"),
        status=str(invoice.get("status")),
        amount_due=amount_due,
        currency=currency,
        hosted_invoice_url=invoice.get("hosted_invoice_url"),
        customer_id=customer.id,
        customer_created=customer.created,
        invoice_pdf=invoice.get("invoice_pdf"),
        amount_due_display=format_amount(amount_due, currency),
        customer_email=recipient.email,
        email_sent=email_sent,
        email_error=email_error,
        crm_sync=sync,
        crm_record_id=record_id,
        crm_sync_error=sync_error,
    )

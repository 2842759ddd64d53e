"""`/v1/invoices`: create, retrieve, update, delete, list, add_lines and lines.

Status transitions (finalize, send, pay, void, mark_uncollectible) are in `invoice_actions`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.sandbox import customers, events, lines
from app.sandbox.errors import StripeError, invalid_param, no_such, state_error
from app.sandbox.forms import Form, merge_metadata
from app.sandbox.lists import (
    PAGING_PARAMS,
    check_choice,
    created_range,
    list_body,
    list_query,
    page_of,
)
from app.sandbox.models import Invoice
from app.sandbox.templates import Templates

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext

DEFAULT_CURRENCY = "usd"
STATUSES = ("draft", "open", "paid", "uncollectible", "void")
COLLECTION_METHODS = ("charge_automatically", "send_invoice")
LINES_EMBEDDED = 10
_DAY = 86_400
_DRAFT_FIELDS = ("description", "metadata", "auto_advance", "collection_method", "due_date",
                 "days_until_due", "footer")
_IGNORED = ("automatic_tax", "payment_settings", "rendering", "default_payment_method",
            "default_source", "statement_descriptor", "custom_fields", "account_tax_ids",
            "default_tax_rates", "discounts", "issuer", "on_behalf_of", "shipping_cost",
            "shipping_details", "transfer_data", "effective_at", "application_fee_amount")


def render(templates: Templates, invoice: Invoice) -> dict[str, Any]:
    total = invoice.total
    finalized = invoice.status != "draft"
    shown = invoice.lines[:LINES_EMBEDDED]
    return {
        **templates.invoice,
        "account_country": "US",
        "account_name": "Stripe emulator",
        "account_tax_ids": None,
        "amount_due": total,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": total - invoice.amount_paid,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": invoice.attempt_count,
        "attempted": invoice.attempted,
        "auto_advance": invoice.auto_advance,
        "automatic_tax": {"enabled": False, "liability": None, "status": None,
                          "disabled_reason": None, "provider": None},
        "billing_reason": "manual",
        "collection_method": invoice.collection_method,
        "created": invoice.created,
        "currency": invoice.currency or DEFAULT_CURRENCY,
        "custom_fields": None,
        "customer": invoice.customer,
        "customer_address": None,
        "customer_email": invoice.customer_email,
        "customer_name": invoice.customer_name,
        "customer_phone": invoice.customer_phone,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": invoice.description,
        "discounts": [],
        "due_date": invoice.due_date,
        "effective_at": invoice.finalized_at,
        "ending_balance": 0 if finalized else None,
        "footer": invoice.footer,
        "from_invoice": None,
        "hosted_invoice_url": invoice.hosted_invoice_url,
        "id": invoice.id,
        "invoice_pdf": invoice.invoice_pdf,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "data": [lines.render_line(templates, invoice, line) for line in shown],
            "has_more": len(invoice.lines) > LINES_EMBEDDED,
            "object": "list",
            "total_count": len(invoice.lines),
            "url": f"/v1/invoices/{invoice.id}/lines",
        },
        "livemode": invoice.livemode,
        "metadata": dict(invoice.metadata),
        "next_payment_attempt": None,
        "number": invoice.number,
        "object": "invoice",
        "on_behalf_of": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None,
                             "payment_method_types": None},
        "period_end": invoice.created,
        "period_start": invoice.created,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {"amount_tax_display": None, "pdf": {"page_size": "auto"},
                      "template": None, "template_version": None},
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": invoice.status,
        "status_transitions": {
            "finalized_at": invoice.finalized_at,
            "marked_uncollectible_at": invoice.marked_uncollectible_at,
            "paid_at": invoice.paid_at,
            "voided_at": invoice.voided_at,
        },
        "subscription": None,
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "webhooks_delivered_at": invoice.created,
        "automatically_finalizes_at": None,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "amount_overpaid": 0,
        "parent": None,
        "customer_account": None,
    }


def get(ctx: ApiContext, invoice_id: str) -> Invoice:
    invoice = ctx.account.invoices.get(invoice_id)
    if invoice is None:
        raise no_such("invoice", invoice_id)
    return invoice


def check_due(invoice: Invoice) -> None:
    """The due-date rules Stripe enforces, on the invoice as it would be after the change."""
    if invoice.collection_method == "send_invoice":
        if invoice.due_date is None:
            raise StripeError(
                400,
                "Missing required param: days_until_due or due_date (required when "
                "collection_method is send_invoice).",
                code="parameter_missing",
                param="days_until_due",
            )
    elif invoice.due_date is not None:
        raise invalid_param("due_date", "You can only set `due_date` or `days_until_due` if "
                            "`collection_method` is `send_invoice`.")


def apply_due(form: Form, invoice: Invoice, now: int) -> None:
    """`due_date` (a future timestamp) or `days_until_due` (due date counted from `created`
    now, from finalization later)."""
    due = form.integer("due_date") if "due_date" in form else None
    days = (form.integer("days_until_due", minimum=0, maximum=3650)
            if "days_until_due" in form else None)
    if due is not None and days is not None:
        raise invalid_param("due_date", "You can only specify one of due_date or days_until_due.")
    if "due_date" in form:
        if due is not None and due <= now:
            raise invalid_param("due_date", "Invoice due dates must be in the future.")
        invoice.due_date = due
        invoice.days_until_due = None
    if "days_until_due" in form:
        invoice.days_until_due = days
        invoice.due_date = None if days is None else invoice.created + days * _DAY


def create(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(_DRAFT_FIELDS + _IGNORED + ("customer", "currency",
                                                     "pending_invoice_items_behavior"))
    customer = customers.get_live(ctx, form.string("customer", required=True) or "",
                                  param="customer")
    method = form.string("collection_method", choices=COLLECTION_METHODS) or "charge_automatically"
    currency = form.string("currency", nullable=True)
    behavior = form.string("pending_invoice_items_behavior", choices=("include", "exclude"))
    invoice = Invoice(
        id=ctx.state.new_id("in_"),
        created=ctx.account.invoices.next_created(ctx.now),
        livemode=ctx.livemode,
        customer=customer.id,
        currency=currency.lower() if currency else customer.currency,
        collection_method=method,
        auto_advance=bool(form.boolean("auto_advance")),
        description=form.string("description", nullable=True),
        footer=form.string("footer", nullable=True),
        metadata=merge_metadata({}, form.metadata()),
        customer_email=customer.email,
        customer_name=customer.name,
        customer_phone=customer.phone,
    )
    apply_due(form, invoice, ctx.now)
    check_due(invoice)
    pending = []
    if behavior == "include":
        pending = [item for item in ctx.account.invoiceitems.values()
                   if item.customer == customer.id and item.invoice is None]
        for item in pending:
            invoice.currency = invoice.currency or item.currency
            if item.currency != invoice.currency:
                raise invalid_param("pending_invoice_items_behavior", "The pending invoice "
                                    f"item {item.id} is in {item.currency}, not in the "
                                    f"invoice currency {invoice.currency}.")
    for item in pending:
        item.invoice = invoice.id
        invoice.lines.append(lines.line_for_item(ctx, item))
    ctx.account.invoices.add(invoice.id, invoice, invoice.created)
    ctx.state.invoice_accounts[invoice.id] = ctx.account.id
    snapshot = render(ctx.templates, invoice)
    events.emit(ctx.state, ctx.account, "invoice.created", snapshot, ctx=ctx)
    return snapshot


def retrieve(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    return render(ctx.templates, get(ctx, ctx.path("id")))


def update(ctx: ApiContext) -> dict[str, Any]:
    invoice = get(ctx, ctx.path("id"))
    form = ctx.form.only(_DRAFT_FIELDS + _IGNORED)
    editable = set(_DRAFT_FIELDS) | set(_IGNORED)
    if invoice.status in ("open", "uncollectible"):
        editable = {"metadata", "auto_advance", "description", "footer"}
    elif invoice.status in ("paid", "void"):
        editable = {"metadata"}
    for key in form.data:
        if key not in editable and key != "expand":
            raise state_error(
                f"You can't update `{key}` on an invoice with status `{invoice.status}`: "
                "finalized invoices are not editable, except for their metadata.",
                code="invoice_not_editable",
            )
    # Validate on a copy so a refused update changes nothing.
    candidate = replace(invoice)
    if "collection_method" in form:
        candidate.collection_method = (
            form.string("collection_method", choices=COLLECTION_METHODS) or "charge_automatically"
        )
    apply_due(form, candidate, ctx.now)
    if invoice.status == "draft":
        check_due(candidate)
    for key in ("description", "footer"):
        if key in form:
            setattr(candidate, key, form.string(key, nullable=True))
    if "auto_advance" in form:
        candidate.auto_advance = bool(form.boolean("auto_advance"))
    candidate.metadata = merge_metadata(invoice.metadata, form.metadata())
    before = render(ctx.templates, invoice)
    for field in ("collection_method", "due_date", "days_until_due", "description", "footer",
                  "auto_advance", "metadata"):
        setattr(invoice, field, getattr(candidate, field))
    after = render(ctx.templates, invoice)
    previous = events.diff(before, after)
    if previous:
        events.emit(ctx.state, ctx.account, "invoice.updated", after,
                    previous_attributes=previous, ctx=ctx)
    return after


def delete(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    invoice = get(ctx, ctx.path("id"))
    if invoice.status != "draft":
        raise state_error("You can only delete draft invoices. This invoice is "
                          f"{invoice.status}; void it instead.", code="invoice_not_editable")
    snapshot = render(ctx.templates, invoice)
    for line in invoice.lines:
        ctx.account.invoiceitems.remove(line.invoice_item)
    ctx.account.invoices.remove(invoice.id)
    ctx.state.invoice_accounts.pop(invoice.id, None)
    events.emit(ctx.state, ctx.account, "invoice.deleted", snapshot, ctx=ctx)
    return {"id": invoice.id, "object": "invoice", "deleted": True}


def list_invoices(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(PAGING_PARAMS | {"customer", "status", "collection_method", "created",
                                          "due_date", "subscription", "customer_account"})
    query = list_query(form)
    customer = form.string("customer", nullable=True)
    status = check_choice(form, "status", STATUSES)
    method = check_choice(form, "collection_method", COLLECTION_METHODS)
    due = created_range(form, "due_date")
    no_subscription = form.string("subscription", nullable=True) is not None

    def where(invoice: Invoice) -> bool:
        if no_subscription:
            return False  # the emulator has no subscriptions
        if customer is not None and invoice.customer != customer:
            return False
        if status is not None and invoice.status != status:
            return False
        if method is not None and invoice.collection_method != method:
            return False
        if due is not None:
            value = invoice.due_date
            if value is None:
                return False
            if ((due.gt is not None and value <= due.gt) or (due.gte is not None and value < due.gte)
                    or (due.lt is not None and value >= due.lt)
                    or (due.lte is not None and value > due.lte)):
                return False
        return True

    page = page_of(ctx.account.invoices, query, "invoice", created=created_range(form),
                   where=where)
    return list_body("/v1/invoices", [render(ctx.templates, i) for i in page.items],
                     page.has_more)


def add_lines(ctx: ApiContext) -> dict[str, Any]:
    invoice = get(ctx, ctx.path("id"))
    form = ctx.form.only(("lines", "invoice_metadata"))
    specs_forms = form.forms("lines", required=True)
    if invoice.status != "draft":
        raise state_error("Invoice lines can only be added to draft invoices; this invoice "
                          f"is {invoice.status}.", code="invoice_not_editable")
    currency = invoice.currency
    specs = []
    for line_form in specs_forms:
        line_form.only(lines.LINE_FIELDS)
        spec = lines.parse_line(ctx, line_form, currency=currency or DEFAULT_CURRENCY,
                                currency_param=line_form.name("currency"))
        if currency is None:
            currency = spec.currency
        elif spec.currency != currency:
            raise invalid_param(
                spec.currency_param,
                f"The line's currency ({spec.currency}) must match the invoice currency "
                f"({currency}): an invoice has a single currency.",
            )
        specs.append(spec)
    metadata = form.metadata("invoice_metadata")
    before = render(ctx.templates, invoice)
    invoice.currency = currency
    for spec in specs:
        lines.save_catalog(ctx, spec)
        item = lines.new_item(ctx, spec, invoice.customer, invoice.id)
        invoice.lines.append(lines.line_for_item(ctx, item))
    invoice.metadata = merge_metadata(invoice.metadata, metadata)
    after = render(ctx.templates, invoice)
    events.emit(ctx.state, ctx.account, "invoice.updated", after,
                previous_attributes=events.diff(before, after), ctx=ctx)
    return after


def list_lines(ctx: ApiContext) -> dict[str, Any]:
    invoice = get(ctx, ctx.path("id"))
    query = list_query(ctx.form.only(PAGING_PARAMS))
    ids = [line.id for line in invoice.lines]
    start, stop = 0, len(ids)
    for param, cursor in (("starting_after", query.starting_after),
                          ("ending_before", query.ending_before)):
        if cursor is not None and cursor not in ids:
            raise no_such("line item", cursor, param=param, status=400)
    if query.starting_after is not None:
        start = ids.index(query.starting_after) + 1
        chosen = invoice.lines[start : start + query.limit]
        has_more = start + query.limit < stop
    elif query.ending_before is not None:
        stop = ids.index(query.ending_before)
        chosen = invoice.lines[max(0, stop - query.limit) : stop]
        has_more = stop - query.limit > 0
    else:
        chosen = invoice.lines[: query.limit]
        has_more = query.limit < stop
    return list_body(f"/v1/invoices/{invoice.id}/lines",
                     [lines.render_line(ctx.templates, invoice, line) for line in chosen],
                     has_more)

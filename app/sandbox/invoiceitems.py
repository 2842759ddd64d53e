"""`/v1/invoiceitems` (minimal): create (pending, or onto a draft), retrieve, list, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.sandbox import customers, events, invoices, lines
from app.sandbox.errors import invalid_param, no_such, state_error
from app.sandbox.lists import PAGING_PARAMS, created_range, list_body, list_query, page_of
from app.sandbox.models import InvoiceItem

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext


def get(ctx: ApiContext, item_id: str) -> InvoiceItem:
    item = ctx.account.invoiceitems.get(item_id)
    if item is None:
        raise no_such("invoiceitem", item_id)
    return item


def create(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(lines.LINE_FIELDS + ("customer", "currency", "invoice",
                                              "tax_rates", "tax_behavior", "discounts"))
    customer = customers.get_live(ctx, form.string("customer", required=True) or "",
                                  param="customer")
    currency = form.string("currency", nullable=True)
    spec = lines.parse_line(ctx, form, currency=currency.lower() if currency else None,
                            currency_param="currency")
    invoice = None
    invoice_id = form.string("invoice", nullable=True)
    if invoice_id is not None:
        invoice = ctx.account.invoices.get(invoice_id)
        if invoice is None:
            raise no_such("invoice", invoice_id, param="invoice", status=400)
        if invoice.customer != customer.id:
            raise invalid_param("invoice", "The invoice belongs to another customer.")
        if invoice.status != "draft":
            raise state_error("Invoice items can only be added to draft invoices.",
                              code="invoice_not_editable")
        if invoice.currency is not None and invoice.currency != spec.currency:
            raise invalid_param(spec.currency_param, "The item's currency must match the "
                                f"invoice currency ({invoice.currency}).")
    lines.save_catalog(ctx, spec)
    item = lines.new_item(ctx, spec, customer.id, invoice.id if invoice else None)
    if invoice is not None:
        before = invoices.render(ctx.templates, invoice)
        invoice.currency = invoice.currency or spec.currency
        invoice.lines.append(lines.line_for_item(ctx, item))
        after = invoices.render(ctx.templates, invoice)
        events.emit(ctx.state, ctx.account, "invoice.updated", after,
                    previous_attributes=events.diff(before, after), ctx=ctx)
    snapshot = lines.render_item(ctx.templates, item)
    events.emit(ctx.state, ctx.account, "invoiceitem.created", snapshot, ctx=ctx)
    return snapshot


def retrieve(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    return lines.render_item(ctx.templates, get(ctx, ctx.path("id")))


def delete(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    item = get(ctx, ctx.path("id"))
    invoice = ctx.account.invoices.get(item.invoice) if item.invoice else None
    if invoice is not None and invoice.status != "draft":
        raise state_error("Invoice items on finalized invoices cannot be deleted.",
                          code="invoice_not_editable")
    snapshot = lines.render_item(ctx.templates, item)
    if invoice is not None:
        before = invoices.render(ctx.templates, invoice)
        invoice.lines = [line for line in invoice.lines if line.invoice_item != item.id]
        after = invoices.render(ctx.templates, invoice)
        events.emit(ctx.state, ctx.account, "invoice.updated", after,
                    previous_attributes=events.diff(before, after), ctx=ctx)
    ctx.account.invoiceitems.remove(item.id)
    events.emit(ctx.state, ctx.account, "invoiceitem.deleted", snapshot, ctx=ctx)
    return {"id": item.id, "object": "invoiceitem", "deleted": True}


def list_items(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(PAGING_PARAMS | {"customer", "invoice", "pending", "created"})
    query = list_query(form)
    customer = form.string("customer", nullable=True)
    invoice = form.string("invoice", nullable=True)
    pending = form.boolean("pending")

    def where(item: InvoiceItem) -> bool:
        return (
            (customer is None or item.customer == customer)
            and (invoice is None or item.invoice == invoice)
            and (pending is None or (item.invoice is None) == pending)
        )

    page = page_of(ctx.account.invoiceitems, query, "invoiceitem", created=created_range(form),
                   where=where)
    return list_body("/v1/invoiceitems", [lines.render_item(ctx.templates, i) for i in page.items],
                     page.has_more)

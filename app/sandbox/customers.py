"""`/v1/customers`: create, retrieve, update, delete, list (with exact, case-sensitive `email`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from app.sandbox import events
from app.sandbox.errors import StripeError, no_such
from app.sandbox.forms import Form, merge_metadata
from app.sandbox.lists import PAGING_PARAMS, created_range, list_body, list_query, page_of
from app.sandbox.models import Customer
from app.sandbox.templates import Templates

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_EDITABLE = ("email", "name", "description", "phone", "metadata", "address", "preferred_locales",
             "tax_exempt")
# accepted for compatibility, not modelled
_IGNORED = ("invoice_settings", "shipping", "balance", "test_clock", "tax", "source",
            "payment_method", "validate", "next_invoice_sequence", "invoice_prefix")
_ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def render(templates: Templates, customer: Customer) -> dict[str, Any]:
    if customer.deleted:
        return {"id": customer.id, "object": "customer", "deleted": True}
    return {
        **templates.customer,
        "address": customer.address,
        "balance": 0,
        "created": customer.created,
        "currency": customer.currency,
        "default_source": None,
        "delinquent": False,
        "description": customer.description,
        "discount": None,
        "email": customer.email,
        "id": customer.id,
        "invoice_prefix": customer.invoice_prefix,
        "livemode": customer.livemode,
        "metadata": dict(customer.metadata),
        "name": customer.name,
        "next_invoice_sequence": customer.next_invoice_sequence,
        "object": "customer",
        "phone": customer.phone,
        "preferred_locales": list(customer.preferred_locales),
        "shipping": None,
        "tax_exempt": customer.tax_exempt,
        "test_clock": None,
    }


def _changes(form: Form) -> dict[str, Any]:
    """Validated field values from the form; nothing is applied yet."""
    changes: dict[str, Any] = {}
    if "email" in form:
        email = form.string("email", nullable=True)
        if email is not None and (len(email) > 512 or not _EMAIL.fullmatch(email)):
            raise StripeError(400, f"Invalid email address: {email}", code="email_invalid",
                              param="email")
        changes["email"] = email
    for key in ("name", "description", "phone"):
        if key in form:
            changes[key] = form.string(key, nullable=True)
    if "address" in form:
        address = form.form("address")
        if address is None:
            changes["address"] = None
        else:
            address.only(_ADDRESS_FIELDS)
            changes["address"] = {k: address.string(k, nullable=True) for k in _ADDRESS_FIELDS}
    if "preferred_locales" in form:
        changes["preferred_locales"] = form.strings("preferred_locales") or []
    if "tax_exempt" in form:
        changes["tax_exempt"] = form.string("tax_exempt", choices=("none", "exempt", "reverse"))
    return changes


def get_live(ctx: ApiContext, customer_id: str, *, param: str | None = None) -> Customer:
    customer = ctx.account.customers.get(customer_id)
    if customer is None or customer.deleted:
        raise no_such("customer", customer_id, param=param, status=400 if param else 404)
    return customer


def create(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(_EDITABLE + _IGNORED)
    changes = _changes(form)
    metadata = merge_metadata({}, form.metadata())
    state, account = ctx.state, ctx.account
    customer = Customer(
        id=state.new_id("cus_", 14),
        created=account.customers.next_created(ctx.now),
        livemode=ctx.livemode,
        metadata=metadata,
        invoice_prefix=state.new_code(),
    )
    for key, value in changes.items():
        setattr(customer, key, value)
    account.customers.add(customer.id, customer, customer.created)
    snapshot = render(ctx.templates, customer)
    events.emit(state, account, "customer.created", snapshot, ctx=ctx)
    return snapshot


def retrieve(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    customer_id = ctx.path("id")
    customer = ctx.account.customers.get(customer_id) or ctx.account.deleted_customers.get(
        customer_id
    )
    if customer is None:
        raise no_such("customer", customer_id)
    return render(ctx.templates, customer)


def update(ctx: ApiContext) -> dict[str, Any]:
    customer = get_live(ctx, ctx.path("id"))
    form = ctx.form.only(_EDITABLE + _IGNORED)
    changes = _changes(form)
    return events.apply_update(ctx, customer, changes, form.metadata(), render, "customer.updated")


def delete(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    customer = get_live(ctx, ctx.path("id"))
    snapshot = render(ctx.templates, customer)
    customer.deleted = True
    # Deleted customers still answer retrieve (with `deleted: true`) but leave every list.
    ctx.account.customers.remove(customer.id)
    ctx.account.deleted_customers[customer.id] = customer
    events.emit(ctx.state, ctx.account, "customer.deleted", snapshot, ctx=ctx)
    return {"id": customer.id, "object": "customer", "deleted": True}


def list_customers(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(PAGING_PARAMS | {"email", "created", "test_clock"})
    query = list_query(form)
    created = created_range(form)
    email = form.string("email", nullable=True)
    where = None if email is None else (lambda c: c.email == email)
    page = page_of(ctx.account.customers, query, "customer", created=created, where=where)
    return list_body("/v1/customers", [render(ctx.templates, c) for c in page.items],
                     page.has_more)

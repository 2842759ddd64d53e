"""Create-or-update by email. Lookup is `customers.list(email=)` (strongly consistent) under the
same per-email lock and the same choice among duplicates (oldest) as Create Invoice
(`app.invoicing.customers`), whose `resolve_customer` needs a CRM person, which this block has not.
A new customer is created with only its email under a key derived from workspace + email, so racing
executions for one new email converge on one customer; the other fields follow as an update keyed
by the execution id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.connection.service import require_gateway
from app.errors import validation_error
from app.invoicing.customers import choose_customer, customer_lock_key
from app.invoicing.recipients import normalise_email
from app.stripe.idempotency import idempotency_key
from blocks.base import StepCall

if TYPE_CHECKING:
    from app.context import AppContext


def _changes(config: Any, customer: dict[str, Any] | None) -> dict[str, Any]:
    """The fields to set: those given in the config that differ from the customer's."""
    current = customer or {}
    wanted: dict[str, Any] = {k: getattr(config, k) for k in ("name", "phone", "description") if getattr(config, k)}
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    metadata = {k: v for k, v in config.metadata.items() if (current.get("metadata") or {}).get(k) != v}
    if metadata:
        changes["metadata"] = metadata
    return changes


async def execute(ctx: AppContext, call: StepCall) -> dict[str, Any]:
    config = call.config
    email = normalise_email(config.email)
    if email is None:
        raise validation_error(f"'{config.email}' is not a valid email address.", email="invalid email")
    ws = call.workspace_id
    gw = await require_gateway(ctx, ws)
    async with ctx.locks.hold(customer_lock_key(ws, email)):
        found = choose_customer(await gw.find_customers_by_email(email), ws, person_id="")
        created = found is None
        if found is not None:
            customer = found
        else:
            customer = await gw.create_customer(
                {"email": email, "metadata": {"workspace_id": ws}},
                idempotency_key(ws, "block.customer_create", email),
            )
    changes = _changes(config, None if created else customer)
    if changes:
        customer = await gw.update_customer(
            customer["id"], changes, idempotency_key(ws, "block.customer_update", call.execution_id, customer["id"]))
    return {"customer_id": customer["id"], "email": email, "name": customer.get("name"),
            "created": created, "updated": bool(changes) and not created}

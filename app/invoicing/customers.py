"""Find or create the Stripe customer for a recipient, by normalised email, never twice.

`customers.list(email=)` (strongly consistent, unlike search) runs under a per-workspace, per-email
lock, so concurrent requests in this process queue behind the first one and then find its customer;
the create carries an idempotency key from workspace + email, so even requests in other processes
that pass the lookup at the same moment get the same customer back from Stripe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.errors import AppError, ErrorCode
from app.invoicing.recipients import Recipient
from app.stripe.idempotency import idempotency_key

if TYPE_CHECKING:
    from app.context import AppContext
    from app.stripe.gateway import StripeGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedCustomer:
    id: str
    created: bool


def customer_lock_key(workspace_id: str, email: str) -> str:
    return f"customer:{workspace_id}:{email}"


def choose_customer(found: list[dict[str, Any]], workspace_id: str, person_id: str) -> dict[str, Any] | None:
    """Several customers may share an email: prefer the one we made for this person, else the
    oldest (the one most likely to carry the history)."""
    if not found:
        return None
    for customer in found:
        metadata = customer.get("metadata") or {}
        if metadata.get("crm_person_id") == person_id and metadata.get("workspace_id") == workspace_id:
            return customer
    return min(found, key=lambda c: (c.get("created") or 0, c.get("id", "")))


async def resolve_customer(
    ctx: AppContext, workspace_id: str, gateway: StripeGateway, recipient: Recipient
) -> ResolvedCustomer:
    email = recipient.email
    async with ctx.locks.hold(customer_lock_key(workspace_id, email)):
        customer = choose_customer(await gateway.find_customers_by_email(email), workspace_id, recipient.person.id)
        if customer is None:
            return ResolvedCustomer(await _create(workspace_id, gateway, recipient), True)
        if recipient.person.name.strip() and customer.get("name") != recipient.name:
            # No idempotency key: setting a name is idempotent by nature, and a replayed key would
            # silently skip a change back to an earlier name.
            await gateway.update_customer(customer["id"], {"name": recipient.name})
            log.info("stripe customer renamed to match the CRM", extra={"workspace_id": workspace_id,
                                                                        "customer": customer["id"]})
        return ResolvedCustomer(str(customer["id"]), False)


async def _create(workspace_id: str, gateway: StripeGateway, recipient: Recipient) -> str:
    params = {
        "email": recipient.email,
        "name": recipient.name,
        "metadata": {"workspace_id": workspace_id, "crm_person_id": recipient.person.id},
    }
    try:
        created = await gateway.create_customer(params, idempotency_key(workspace_id, "customer.create", recipient.email))
    except AppError as exc:
        if exc.code is not ErrorCode.CONFLICT:
            raise
        # The key was used with other params (the CRM name changed since): that customer exists.
        again = choose_customer(await gateway.find_customers_by_email(recipient.email), workspace_id,
                                recipient.person.id)
        if again is None:
            raise
        return str(again["id"])
    return str(created["id"])

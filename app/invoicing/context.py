"""What the create-invoice dialog needs before the operator starts: who can receive the invoice
and which catalog prices can go on it. The Stripe key never leaves the server."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from app.connection.webhook_endpoint import workspace_gateway
from app.errors import AppError
from app.invoicing.catalog import CatalogPrice, active_prices
from app.invoicing.models import (
    MAX_AMOUNT,
    MAX_DESCRIPTION,
    MAX_DUE_DAYS,
    MAX_LINES,
    MAX_QUANTITY,
    ObjectSlug,
    today_utc,
)
from app.invoicing.recipients import normalise_email, recipient_choices
from app.money import THREE_DECIMAL, ZERO_DECIMAL

if TYPE_CHECKING:
    from app.context import AppContext

DEFAULT_DUE_DAYS = 30


async def invoice_context(ctx: AppContext, workspace_id: str, object: ObjectSlug, record_id: str) -> dict[str, Any]:
    """Recipients (main contact preselected for a company) and the active catalog. A missing
    Stripe connection or catalog permission is reported in the body, not as an error, so the
    dialog can still show the record and say what to fix."""
    choices = await recipient_choices(ctx.crm(workspace_id), object, record_id)
    prices: tuple[CatalogPrice, ...] = ()
    catalog_error: str | None = None
    gateway = await workspace_gateway(ctx, workspace_id)
    if gateway is None:
        catalog_error = "Stripe is not connected: an admin can connect a key in Settings."
    else:
        try:
            prices = await active_prices(ctx, workspace_id, gateway)
        except AppError as exc:
            catalog_error = exc.message
    invoiceable = [p for p in prices if p.invoiceable]
    today = today_utc()
    return {
        "object": choices.object,
        "record": {"id": choices.record_id, "name": choices.record_name},
        "recipients": [
            {
                "id": p.id,
                "name": p.name,
                "email": p.primary_email,
                "can_receive": normalise_email(p.primary_email) is not None,
                "main_contact": p.id == choices.main_contact_id,
            }
            for p in choices.people
        ],
        "default_recipient_id": choices.default_person_id,
        "stripe_connected": gateway is not None,
        "catalog": [p.to_json() for p in prices if p.active],
        "catalog_error": catalog_error,
        "default_currency": invoiceable[0].currency if invoiceable else "usd",
        "due_date": {
            "min": today.isoformat(),
            "default": (today + timedelta(days=DEFAULT_DUE_DAYS)).isoformat(),
            "max": (today + timedelta(days=MAX_DUE_DAYS)).isoformat(),
        },
        "currency_decimals": {"zero": sorted(ZERO_DECIMAL), "three": sorted(THREE_DECIMAL)},
        "limits": {"max_lines": MAX_LINES, "max_quantity": MAX_QUANTITY, "max_amount": MAX_AMOUNT,
                   "max_description": MAX_DESCRIPTION},
    }

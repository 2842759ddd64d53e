"""A workspace connected to an emulator account, with the invoice schema set up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.clock import utcnow
from app.context import AppContext
from app.secrets_box import mask_key
from app.store.connections import save_connection
from app.store.workspaces import create_workspace
from app.stripe.gateway import StripeGateway
from schema_mapping.mapping import SchemaMapping
from schema_mapping.setup import ensure_schema


@dataclass
class Connected:
    ctx: AppContext
    workspace_id: str
    account_id: str
    key: str
    gateway: StripeGateway


async def connect_without_webhook(ctx: AppContext, key: str, account_id: str) -> str:
    """A workspace holding `key`, schema ready, but no webhook endpoint (events are fed by hand)."""
    ws = await create_workspace(ctx.store, "Sync test")
    await save_connection(ctx.store, ws.workspace_id, mode="sandbox", key_ciphertext=ctx.box.encrypt(key),
                          key_masked=mask_key(key), account_id=account_id, livemode=False,
                          missing_permissions=[], connected_at=utcnow())
    report = await ensure_schema(ctx.crm(ws.workspace_id), SchemaMapping.default())
    assert report.ok
    return ws.workspace_id


@pytest.fixture
async def connected(sctx: AppContext, emulator: Any) -> Connected:
    account_id, key = emulator.new_account()
    ws = await connect_without_webhook(sctx, key, account_id)
    return Connected(sctx, ws, account_id, key, sctx.stripe.for_key(key))


async def make_invoice(gw: StripeGateway, email: str, *, amount: int = 1234, currency: str = "usd") -> dict[str, Any]:
    """A draft invoice with one line for a (new) customer."""
    import secrets

    customer = await gw.create_customer({"email": email, "name": email.split("@")[0]}, secrets.token_hex(8))
    invoice = await gw.create_invoice({"customer": customer["id"], "collection_method": "send_invoice",
                                       "days_until_due": 30, "currency": currency}, secrets.token_hex(8))
    await gw.add_lines(invoice["id"], [{"price_data": {"currency": currency, "unit_amount": amount,
                                                        "product_data": {"name": "Consulting"}}, "quantity": 1}],
                       secrets.token_hex(8))
    return invoice


async def invoice_events(gw: StripeGateway, invoice_id: str) -> list[dict[str, Any]]:
    """Every stored event of the invoice, oldest first."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        page, more = await gw.list_events(types=("invoice.created", "invoice.updated", "invoice.finalized",
                                                 "invoice.sent", "invoice.paid", "invoice.payment_succeeded",
                                                 "invoice.payment_failed", "invoice.voided",
                                                 "invoice.marked_uncollectible"),
                                          created_gte=None, starting_after=cursor)
        events.extend(e for e in page if e["data"]["object"]["id"] == invoice_id)
        if not more or not page:
            break
        cursor = page[-1]["id"]
    return list(reversed(events))

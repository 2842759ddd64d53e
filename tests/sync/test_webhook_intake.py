"""POST /webhooks/stripe/{workspace_id}: verified on the raw bytes, stored once, answered fast."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from app.connection.service import connect
from app.context import AppContext
from app.store.connections import get_connection
from app.store.sync_tables import stripe_events
from app.store.workspaces import CreatedWorkspace
from app.stripe.webhooks import sign_payload


def _event(event_id: str = "evt_test_1", created: int | None = None) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": "customer.created", "api_version": "2026-10-28.endive",
            "created": created or int(time.time()), "data": {"object": {"id": "cus_1", "object": "customer"}},
            "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}}


async def _secret(ctx: AppContext, workspace_id: str) -> str:
    row = await get_connection(ctx.store, workspace_id)
    assert row is not None and row.webhook_secret_ciphertext
    return ctx.box.decrypt(row.webhook_secret_ciphertext)


async def _stored(ctx: AppContext, workspace_id: str) -> int:
    async with ctx.store.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(stripe_events).where(
            stripe_events.c.workspace_id == workspace_id))).scalar_one())


async def _setup(sctx: AppContext, sworkspace: CreatedWorkspace, emulator: Any) -> tuple[str, str]:
    _, key = emulator.new_account()
    await connect(sctx, sworkspace.workspace_id, key, "sandbox")
    return sworkspace.workspace_id, await _secret(sctx, sworkspace.workspace_id)


def _post(client: httpx.AsyncClient, ws: str, body: bytes, sig: str | None, **headers: str) -> Any:
    h = {"Content-Type": "application/json", **headers}
    if sig is not None:
        h["Stripe-Signature"] = sig
    return client.post(f"/webhooks/stripe/{ws}", content=body, headers=h)


async def test_signed_event_is_stored_once_and_duplicates_are_noops(
    sctx: AppContext, sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace, emulator: Any
) -> None:
    ws, secret = await _setup(sctx, sworkspace, emulator)
    body = json.dumps(_event()).encode()
    sig = sign_payload(body, secret, int(time.time()))
    first = await _post(sclient, ws, body, sig)
    assert first.status_code == 200 and first.json() == {"received": True, "event_id": "evt_test_1", "duplicate": False}
    again = await _post(sclient, ws, body, sig)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert await _stored(sctx, ws) == 1


async def test_refusals_store_nothing(
    sctx: AppContext, sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace, emulator: Any
) -> None:
    ws, secret = await _setup(sctx, sworkspace, emulator)
    body = json.dumps(_event("evt_bad")).encode()
    now = int(time.time())
    cases = [
        ("missing signature", body, None, 400),
        ("wrong secret", body, sign_payload(body, "whsec_wrong", now), 400),
        ("stale timestamp", body, sign_payload(body, secret, now - 301), 400),
        ("tampered body", body.replace(b"customer.created", b"invoice.paid"), sign_payload(body, secret, now), 400),
        ("garbage header", body, "t=abc,v1=zzz", 400),
        ("not an event", b'{"hello": 1}', sign_payload(b'{"hello": 1}', secret, now), 422),
        ("not json", b"\x00\x01", sign_payload(b"\x00\x01".decode("latin-1").encode(), secret, now), 400),
    ]
    for name, payload, sig, status in cases:
        r = await _post(sclient, ws, payload, sig)
        assert r.status_code == status, (name, r.status_code, r.text)
        assert r.json()["error"]["message"], name
    r = await _post(sclient, "ws_unknown", body, sign_payload(body, secret, now))
    assert r.status_code == 404
    huge = b'{"id": "evt_huge", "type": "x", "pad": "' + b"a" * (1024 * 1024) + b'"}'
    r = await _post(sclient, ws, huge, sign_payload(huge, secret, now))
    assert r.status_code == 413
    assert await _stored(sctx, ws) == 0


async def test_real_stripe_deliveries_reach_the_crm(tmp_path: Any, emulator: Any) -> None:
    """The emulator's signed deliveries over loopback -> stored -> processed -> CRM record."""
    import asyncio
    import socket

    from app.http.app import create_app
    from app.sandbox.server import running_server
    from app.store import Store
    from app.store.workspaces import create_workspace
    from tests.conftest import make_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url, public_url=f"http://127.0.0.1:{port}")
    store = Store(settings.database_url)
    await store.create_schema()
    ws = await create_workspace(store, "Live")
    _, key = emulator.new_account()
    with running_server(create_app(settings), port=port) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": f"Bearer {ws.admin_token}"}) as c:
            r = await c.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"})
            assert r.status_code == 200, r.text
            from app.stripe.clients import StripeGateways
            from tests.sync.conftest import make_invoice

            gateways = StripeGateways(api_base=emulator.base_url, max_network_retries=0, rate_sandbox=100, rate_live=100)
            try:
                gw = gateways.for_key(key)
                draft = await make_invoice(gw, "Live@Example.com")
                await gw.finalize_invoice(draft["id"], "fin-1")
                await gw.pay_invoice(draft["id"], "pay-1")
            finally:
                await gateways.aclose()
            records: list[Any] = []
            for _ in range(100):
                r = await c.get("/api/crm/objects/stripe_invoices/records", headers={"Authorization": f"Bearer {ws.operator_token}"})
                records = r.json()["data"]
                if records and records[0]["values"].get("status") == "paid":
                    break
                await asyncio.sleep(0.1)
            assert len(records) == 1 and records[0]["values"]["status"] == "paid"
            assert records[0]["values"]["amount_paid"] == 12.34
            health = (await c.get("/api/health")).json()
            assert health["webhook"]["registered"] is True
            assert health["webhook"]["events"]["failed"] == 0
            assert health["webhook"]["last_event_received_at"] is not None
    await store.dispose()

"""The database briefly locked: another connection holds SQLite's write lock (`BEGIN IMMEDIATE`)
for ~2 s while signed webhooks arrive.

Each delivery is either stored and answered 2xx, or refused with a 5xx and stored nothing, so
Stripe's resend stores it: no event is lost either way. With the default busy timeout (30 s) the
deliveries wait for the lock and are stored; with a busy timeout shorter than the lock they are
refused with a 5xx (a JSON error, no trace) and stored on the resend. While the lock is held,
/readyz says the store is not ready (writes are blocked) and /api/health still answers."""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import app.store.engine as engine_module
from app.clock import utcnow
from app.context import AppContext, build_context
from app.http.app import build_app
from app.jobs.inprocess import InProcessJobs
from app.secrets_box import mask_key
from app.store.connections import save_connection
from app.store.sync_tables import stripe_events
from app.store.workspaces import CreatedWorkspace, create_workspace
from app.stripe.webhooks import sign_payload
from schema_mapping.mapping import SchemaMapping
from schema_mapping.setup import ensure_schema
from tests.conftest import bearer, make_settings
from tests.reliability.conftest import wait_for

pytestmark = [pytest.mark.slow]

TEMPLATE: dict[str, Any] = json.loads((Path(__file__).parents[1] / "data" / "stripe" / "invoice.json").read_text())
SECRET = "whsec_locked_database_test"
LOCK_S = 2.0


def _event(i: int, tag: str) -> dict[str, Any]:
    invoice = copy.deepcopy(TEMPLATE)
    invoice.update(id=f"in_lock{tag}{i:03d}", status="open", number=f"LOCK-{tag}-{i}", customer_email=None)
    return {"id": f"evt_lock{tag}{i:03d}", "object": "event", "type": "invoice.finalized", "created": 1_790_000_000 + i,
            "api_version": None, "livemode": False, "data": {"object": invoice}}


@pytest.fixture(params=["default_busy_timeout", "short_busy_timeout"])
async def locked_app(request: pytest.FixtureRequest, tmp_path: Path, emulator: Any,
                     monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[AppContext, CreatedWorkspace, str]]:
    if request.param == "short_busy_timeout":
        original = engine_module._sqlite_pragmas

        def short_wait(dbapi_conn: Any, record: Any) -> None:
            original(dbapi_conn, record)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=300")  # shorter than the lock: writes give up
            cur.close()

        monkeypatch.setattr(engine_module, "_sqlite_pragmas", short_wait)
    # The periodic sweep on (every second): an event whose processing could not even record its
    # failure (the database was locked then too) stays pending and is queued again by the sweep.
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url, sweep_interval_s=1.0,
                             pending_event_grace_s=1.0, reconcile_interval_s=3600.0)
    ctx = await build_context(settings, jobs=InProcessJobs())
    await ctx.jobs.start(ctx)
    try:
        account_id, key = emulator.new_account()
        ws = await create_workspace(ctx.store, "Locked")
        await save_connection(ctx.store, ws.workspace_id, mode="sandbox", key_ciphertext=ctx.box.encrypt(key),
                              key_masked=mask_key(key), account_id=account_id, livemode=False, missing_permissions=[],
                              connected_at=utcnow(), webhook_endpoint_id="we_locked",
                              webhook_secret_ciphertext=ctx.box.encrypt(SECRET))
        assert (await ensure_schema(ctx.crm(ws.workspace_id), SchemaMapping.default())).ok
        yield ctx, ws, request.param
    finally:
        await ctx.aclose()


async def test_deliveries_while_the_database_is_locked(locked_app: tuple[AppContext, CreatedWorkspace, str], tmp_path: Path) -> None:
    ctx, workspace, mode = locked_app
    ws = workspace.workspace_id
    db_path = ctx.settings.database_url.split("///", 1)[1]
    app = build_app(ctx, manage_context=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:

        async def deliver(event: dict[str, Any]) -> tuple[int, float, str]:
            payload = json.dumps(event).encode()
            t = time.monotonic()
            r = await client.post(f"/webhooks/stripe/{ws}", content=payload,
                                  headers={"Stripe-Signature": sign_payload(payload, SECRET, int(time.time()))})
            return r.status_code, time.monotonic() - t, r.text

        assert (await deliver(_event(0, "before")))[0] == 200

        acquired, released = threading.Event(), threading.Event()

        def hold_write_lock() -> None:  # another process's transaction, as far as SQLite can tell
            holder = sqlite3.connect(db_path, isolation_level=None, timeout=5)
            holder.execute("BEGIN IMMEDIATE")
            acquired.set()
            time.sleep(LOCK_S)
            holder.execute("ROLLBACK")
            holder.close()
            released.set()

        thread = threading.Thread(target=hold_write_lock)
        thread.start()
        try:
            assert acquired.wait(5)
            events = [_event(i, "during") for i in range(8)]
            deliveries = asyncio.gather(*(deliver(e) for e in events))
            await asyncio.sleep(0.3)
            ready = await client.get("/readyz")  # while the lock is held
            t = time.monotonic()
            health_during = await client.get("/api/health", headers=bearer(workspace.admin_token))
            health_s = time.monotonic() - t
            answers = await deliveries
        finally:
            await asyncio.to_thread(thread.join)
        assert released.is_set()

        assert ready.status_code == 503, ready.text
        assert ready.json()["checks"] == {"store": "unavailable: StoreLocked", "queue": "ok"}, ready.json()
        assert health_during.status_code == 200 and health_s < 5, (health_during.status_code, health_s)

        stored = await _stored(ctx, ws)
        resent = 0
        for event, (status, took, body) in zip(events, answers, strict=True):
            if 200 <= status < 300:
                assert event["id"] in stored, f"answered {status} but not stored"
            else:
                assert status >= 500, (status, body)
                assert event["id"] not in stored, "refused with a 5xx but stored"
                assert "Traceback" not in body and json.loads(body)["error"]["code"]
                again = await deliver(event)  # Stripe resends after a 5xx
                assert again[0] == 200, again
                resent += 1
        if mode == "default_busy_timeout":
            assert resent == 0 and all(took >= LOCK_S - 0.6 for _, took, _ in answers), answers
        else:
            assert resent > 0, answers

        assert (await client.get("/readyz")).status_code == 200
        wanted = {e["id"] for e in events} | {"evt_lockbefore000"}

        async def all_processed() -> bool:
            rows = await _stored(ctx, ws)
            return wanted <= set(rows) and all(rows[i] == "processed" for i in wanted)

        await wait_for(all_processed, timeout_s=30, interval_s=0.2, what="every event processed")


async def _stored(ctx: AppContext, ws: str) -> dict[str, str]:
    async with ctx.store.connect() as conn:
        rows = (await conn.execute(select(stripe_events.c.event_id, stripe_events.c.status).where(
            stripe_events.c.workspace_id == ws))).all()
    return {r.event_id: r.status for r in rows}


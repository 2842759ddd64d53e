"""Redis killed -9 and started again mid-run (our own `redis-server`, never the shared one).

An `invoicing serve` and an `invoicing worker` run on it. While Redis is down, Stripe (the
emulator) keeps delivering signed events: intake still answers 2xx promptly because each event is
stored before it is queued, /readyz says the queue is unavailable, /api/health shows the pending
events. Redis comes back empty (every queued job is lost); the sweep re-queues the pending events
and everything stored before and during the outage is processed."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.secrets_box import SecretBox
from app.store import Store
from app.store.connections import get_connection
from app.store.sync_tables import stripe_events
from app.stripe.webhooks import sign_payload
from bench.scale_out import HOST, Processes, StripeREST, advance_live_invoice, create_live_invoice, free_port
from tests.conftest import bearer
from tests.reliability.conftest import PrivateRedis, app_env, cli_workspace, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]


async def _statuses(store: Store, workspace_id: str) -> dict[str, str]:
    async with store.connect() as conn:
        rows = (await conn.execute(select(stripe_events.c.event_id, stripe_events.c.status).where(
            stripe_events.c.workspace_id == workspace_id))).all()
    return {r.event_id: r.status for r in rows}


async def _paid_invoices(stripe: StripeREST, n: int, tag: str) -> list[str]:
    ids = []
    for i in range(n):
        invoice_id = await create_live_invoice(stripe, f"{tag}-{i}@redis.test", 2000 + i)
        await advance_live_invoice(stripe, invoice_id, "paid")
        ids.append(invoice_id)
    return ids


async def test_redis_killed_and_restarted_mid_run(tmp_path: Path, emulator: Any, private_redis: PrivateRedis,
                                                 procs: Processes, http: httpx.AsyncClient) -> None:
    port = free_port()
    server = f"http://{HOST}:{port}"
    database_url = f"sqlite+aiosqlite:///{tmp_path}/store.db"
    env = app_env(database_url=database_url, redis_url=private_redis.url, prefix="reliab", data_dir=tmp_path,
                  stripe_base=emulator.base_url, public_url=server, SWEEP_INTERVAL_S="1",
                  PENDING_EVENT_GRACE_S="1", JOB_LEASE_S="3")
    procs.start("server", ["serve", "--host", HOST, "--port", str(port)], env)
    supervisor = asyncio.create_task(_supervise(procs, env))
    ws = await cli_workspace(env)
    try:
        await wait_for(lambda: _ready(http, server), timeout_s=30, what="server ready")
    except AssertionError:
        raise AssertionError(procs.tail("server")) from None
    emulator.state.set_webhooks_paused(False)
    account_id, key = emulator.new_account()
    stripe = StripeREST(emulator.base_url, key)
    store = Store(database_url)
    try:
        connected = await http.put(f"{server}/api/connection", json={"stripe_api_key": key, "mode": "sandbox"},
                                   headers=bearer(ws["admin_token"]))
        assert connected.status_code == 200 and connected.json()["webhook"]["registered"], connected.text
        wid = ws["workspace_id"]

        before = await _paid_invoices(stripe, 3, "before")
        await wait_for(lambda: _all_processed(store, wid, 12), timeout_s=30, what="events before the outage")

        private_redis.kill9()
        t = time.monotonic()
        ready = await http.get(f"{server}/readyz")
        readyz_s = time.monotonic() - t
        assert ready.status_code == 503 and ready.json()["checks"]["queue"].startswith("unavailable"), ready.text
        assert ready.json()["checks"]["store"] == "ok" and readyz_s < 5

        # Stripe keeps delivering while Redis is down: every delivery answered 2xx, events stored.
        during = await _paid_invoices(stripe, 3, "during")
        await wait_for(lambda: _stored_count(store, wid, 24), timeout_s=20, what="events stored during the outage")
        attempts = [a for a in emulator.state.delivery_attempts(account_id) if a.time > 0]
        assert attempts and all(a.succeeded and a.attempt == 1 for a in attempts), \
            [(a.event_type, a.status_code, a.error) for a in attempts if not a.succeeded][:5]
        # Our own signed delivery of a fresh copy of a real event, timed: intake does not hang on Redis.
        row = await get_connection(store, wid)
        assert row is not None and row.webhook_secret_ciphertext
        secret = SecretBox("reliability-secret").decrypt(row.webhook_secret_ciphertext)
        event = {**(await stripe.list_all("/v1/events"))[0], "id": "evt_during_outage_direct"}
        payload = json.dumps(event).encode()
        t = time.monotonic()
        direct = await http.post(f"{server}/webhooks/stripe/{wid}", content=payload,
                                 headers={"Stripe-Signature": sign_payload(payload, secret, int(time.time()))})
        intake_s = time.monotonic() - t
        assert direct.status_code == 200 and direct.json()["duplicate"] is False, direct.text
        assert intake_s < 5, f"intake took {intake_s:.1f} s with Redis down"
        statuses = await _statuses(store, wid)
        assert statuses["evt_during_outage_direct"] == "pending"
        health = (await http.get(f"{server}/api/health", headers=bearer(ws["admin_token"]))).json()
        assert health["webhook"]["events"]["pending"] >= 13, health["webhook"]

        private_redis.start()  # same port, empty: every queued job is gone
        try:
            await wait_for(lambda: _all_processed(store, wid, 25), timeout_s=40, interval_s=0.3,
                           what="every event processed after Redis came back")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await _statuses(store, wid)}\n{procs.tail(_last_worker(procs))}") from None
        assert (await http.get(f"{server}/readyz")).status_code == 200

        records = (await http.get(f"{server}/api/crm/objects/stripe_invoices/records?limit=100",
                                  headers=bearer(ws["operator_token"]))).json()["data"]
        by_id = {r["values"]["stripe_invoice_id"]: r["values"]["status"] for r in records}
        assert by_id == {i: "paid" for i in before + during}, by_id
    finally:
        supervisor.cancel()
        await stripe.aclose()
        await store.dispose()


async def _supervise(procs: Processes, env: dict[str, str]) -> None:
    """Keep one `invoicing worker` running, as systemd's Restart=always would: arq's worker exits
    (status 1) when it loses Redis, and a fresh one waits for Redis while it starts."""
    n = 0
    procs.start("worker-0", ["worker"], env)
    while True:
        await asyncio.sleep(0.2)
        if procs.procs[f"worker-{n}"].poll() is not None:
            n += 1
            procs.start(f"worker-{n}", ["worker"], env)


def _last_worker(procs: Processes) -> str:
    return [name for name in procs.procs if name.startswith("worker-")][-1]


async def _ready(http: httpx.AsyncClient, server: str) -> bool:
    try:
        return (await http.get(f"{server}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _stored_count(store: Store, workspace_id: str, n: int) -> bool:
    return len(await _statuses(store, workspace_id)) >= n


async def _all_processed(store: Store, workspace_id: str, n: int) -> bool:
    statuses = await _statuses(store, workspace_id)
    return len(statuses) >= n and all(s == "processed" for s in statuses.values())

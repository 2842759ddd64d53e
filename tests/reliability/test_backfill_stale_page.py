"""A backfill page that is stale by the time it is applied must not overwrite a newer event.

Found by bench/scale_out.py (small size, about 1 run in 3): two invoices ended `open` in the CRM
while Stripe said `uncollectible`. The backfill read a page showing the invoice open; the invoice
was marked uncollectible in the same second, and that event (created = that second) was processed
first; the page's snapshots were stamped with the second the *response* arrived (one later), so the
guard judged the stale page newer than the event and wrote `open` back, for good.

Here the page request is slowed down deterministically: the list call returns what Stripe had, then
the invoice is marked uncollectible and its event processed, and only in the next second does the
page come back. The page is now stamped with the second its request left, so the event wins."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from app.context import AppContext
from app.stripe.gateway import StripeGateway
from app.sync.backfill import get_job, start_backfill
from app.sync.events import process_event
from app.sync.intake import store_event
from bench.scale_out import StripeREST, create_live_invoice
from tests.reliability.conftest import wait_for
from tests.sync.conftest import Connected, connect_without_webhook

pytestmark = [pytest.mark.slow]


@pytest.fixture
async def connected(sctx: AppContext, emulator: Any) -> Connected:
    account_id, key = emulator.new_account()
    ws = await connect_without_webhook(sctx, key, account_id)
    return Connected(sctx, ws, account_id, key, sctx.stripe.for_key(key))


async def test_a_page_read_before_a_change_does_not_undo_it(connected: Connected, emulator: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, ws = connected.ctx, connected.workspace_id
    stripe = StripeREST(emulator.base_url, connected.key)
    try:
        invoice_id = await create_live_invoice(stripe, "stale@example.com", 4200)  # finalized: open
        real_list = StripeGateway.list_invoices
        changed: dict[str, Any] = {}

        async def slow_list(self: StripeGateway, **kwargs: Any) -> tuple[list[dict[str, Any]], bool]:
            page = await real_list(self, **kwargs)  # Stripe answered: the invoice is open
            if not changed:
                await stripe.post(f"/v1/invoices/{invoice_id}/mark_uncollectible")
                event = next(e for e in await stripe.list_all("/v1/events")
                             if e["type"] == "invoice.marked_uncollectible")
                stored = await store_event(ctx, ws, event, source="webhook")
                row_id = await _row_id(ctx, ws, stored.event_id)
                await process_event(ctx, ws, row_id)  # the CRM says uncollectible now
                changed["created"] = event["created"]
                while int(time.time()) <= event["created"]:  # the response arrives a second later
                    await asyncio.sleep(0.05)
            return page

        monkeypatch.setattr(StripeGateway, "list_invoices", slow_list)
        started = await start_backfill(ctx, ws)

        async def done() -> dict[str, Any] | None:
            job = await get_job(ctx, ws, started.job_id)
            return job if job["status"] in ("succeeded", "failed") else None

        job = await wait_for(done, timeout_s=30, interval_s=0.1, what="backfill")
        assert job["status"] == "succeeded", job
        assert changed, "the page was never read"
        record = await ctx.crm(ws).find_record("stripe_invoices", "stripe_invoice_id", invoice_id)
        assert record is not None and record.values["status"] == "uncollectible", record
    finally:
        await stripe.aclose()


async def _row_id(ctx: AppContext, ws: str, event_id: str) -> str:
    from sqlalchemy import select

    from app.store.sync_tables import stripe_events

    async with ctx.store.connect() as conn:
        value = await conn.scalar(select(stripe_events.c.id).where(
            stripe_events.c.workspace_id == ws, stripe_events.c.event_id == event_id))
    assert value is not None
    return str(value)

"""The guarded upsert on Postgres when a backfill page and a stream of webhook events write the
first state of the same invoices at the same time (found by bench/scale_out.py: the backfill job
failed with "Unexpected error: IntegrityError" after five lost races on invoice_sync_state_pkey).
Now a first state another worker inserted meanwhile is judged again inside the same transaction."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.context import build_context
from app.jobs.inprocess import InProcessJobs
from app.sync.upsert import Snapshot, upsert_invoices
from tests.conftest import make_settings
from tests.sync.conftest import connect_without_webhook

pytestmark = [pytest.mark.postgres]

TEMPLATE: dict[str, Any] = json.loads((Path(__file__).parents[1] / "data" / "stripe" / "invoice.json").read_text())


def invoice(i: int, round_: int) -> dict[str, Any]:
    inv = copy.deepcopy(TEMPLATE)
    inv.update(id=f"in_race{round_:02d}x{i:04d}", status="open", number=f"RACE-{round_}-{i}",
               customer_email=f"race-{i}@example.com", created=1_700_000_000)
    return inv


async def test_backfill_page_and_event_stream_race_on_first_states(pg_url: str, tmp_path: Path) -> None:
    ctx = await build_context(make_settings(tmp_path, database_url=pg_url), jobs=InProcessJobs(periodic=False))
    try:
        ws = await connect_without_webhook(ctx, "sk_test_unused_for_this_test_000", "acct_race")
        for round_ in range(2):
            invoices = [invoice(i, round_) for i in range(60)]
            snaps = [Snapshot(inv, 1_700_000_100) for inv in invoices]

            async def stream(part: list[Snapshot]) -> None:
                for snap in part:  # webhook events: one invoice each, spread over the page's work
                    await upsert_invoices(ctx, ws, [snap])
                    await asyncio.sleep(0.005)

            async def page(batch: list[Snapshot]) -> list[Any]:
                await asyncio.sleep(0.02)
                return await upsert_invoices(ctx, ws, batch)  # a backfill page: all of them at once

            results = await asyncio.gather(page(snaps), stream(snaps[::2]), stream(snaps[1::2][::-1]), page(snaps))
            assert len(results[0]) == 60 and len(results[3]) == 60
        records, total = await ctx.crm(ws).list_records("stripe_invoices", limit=500)
        ids = [r.values["stripe_invoice_id"] for r in records]
        assert total == 120 and len(set(ids)) == 120
    finally:
        await ctx.aclose()

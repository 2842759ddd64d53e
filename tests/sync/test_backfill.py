"""Backfill in-process: every invoice exactly once, even with Stripe failing 20% of calls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.errors import AppError
from app.sync.backfill import get_job, start_backfill
from schema_mapping.mapping import SchemaMapping
from tests.sync.conftest import Connected


async def _wait_done(c: Connected, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    for _ in range(int(timeout_s * 10)):
        job = await get_job(c.ctx, c.workspace_id, job_id)
        if job["status"] in ("succeeded", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"backfill did not finish: {job}")


async def _crm_ids(c: Connected) -> list[str]:
    mapping = SchemaMapping.default()
    crm = c.ctx.crm(c.workspace_id)
    ids: list[str] = []
    offset = 0
    while True:
        page, total = await crm.list_records(mapping.object_slug, limit=500, offset=offset)
        ids.extend(r.values[mapping.slug("stripe_invoice_id")] for r in page)
        offset += len(page)
        if offset >= total or not page:
            return ids


async def test_backfill_with_faults_brings_every_invoice_once(connected: Connected, emulator: Any) -> None:
    created = emulator.state.bulk_invoices(connected.account_id, 2000, customers=40)
    assert created["created"] == 2000
    emulator.state.set_faults(rate_429=0.1, rate_500=0.1, seed=7, account_id=connected.account_id)
    try:
        started = await start_backfill(connected.ctx, connected.workspace_id)
        job = await _wait_done(connected, started.job_id)
    finally:
        emulator.state.clear_faults()
    assert job["status"] == "succeeded", job
    ids = await _crm_ids(connected)
    assert len(ids) == 2000 and len(set(ids)) == 2000
    assert job["counts"]["created"] == 2000 and job["counts"]["seen"] == 2000
    faults = [r for r in emulator.state.requests(connected.account_id) if r.status in (429, 500)]
    assert faults, "the fault injection did not fire"

    again = await start_backfill(connected.ctx, connected.workspace_id)
    job2 = await _wait_done(connected, again.job_id)
    assert job2["counts"]["unchanged"] == 2000 and job2["counts"]["created"] == 0
    assert len(await _crm_ids(connected)) == 2000


async def test_one_backfill_per_workspace(connected: Connected, emulator: Any) -> None:
    emulator.state.bulk_invoices(connected.account_id, 300, customers=3)
    first = await start_backfill(connected.ctx, connected.workspace_id)
    second = await start_backfill(connected.ctx, connected.workspace_id)
    assert second.already_running and second.job_id == first.job_id
    await _wait_done(connected, first.job_id)


async def test_backfill_needs_a_connection(sctx: Any, sworkspace: Any) -> None:
    with pytest.raises(AppError) as err:
        await start_backfill(sctx, sworkspace.workspace_id)
    assert err.value.status == 409

"""What the sync re-queues after a restart, and the periodic sweep that does the same while
running: stored-but-unprocessed events and backfills whose runner died."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.clock import utcnow
from app.store.sync_tables import jobs, stripe_events
from app.sync.backfill import BACKFILL_JOB
from app.sync.intake import PROCESS_JOB

if TYPE_CHECKING:
    from app.context import AppContext


async def requeue_pending(ctx: AppContext, *, older_than_s: float) -> int:
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    async with ctx.store.connect() as conn:
        events = (await conn.execute(select(stripe_events.c.id, stripe_events.c.workspace_id).where(
            stripe_events.c.status == "pending", stripe_events.c.received_at <= cutoff).limit(5000))).all()
        stuck = (await conn.execute(select(jobs.c.id).where(
            jobs.c.status.in_(("queued", "running")),
            (jobs.c.lease_expires_at.is_(None)) | (jobs.c.lease_expires_at < utcnow())))).all()
    # Keys differ from the original enqueue: a queue may still hold the dead runner's copy of
    # the job under its original key, which would make a same-keyed enqueue a silent no-op.
    round_ = f"r{int(time.time())}"
    for ev in events:
        await ctx.jobs.enqueue(PROCESS_JOB, key=f"event:{ev.id}:{round_}", workspace_id=ev.workspace_id, event_row_id=ev.id)
    for job in stuck:
        await ctx.jobs.enqueue(BACKFILL_JOB, key=f"backfill:{job.id}:{round_}", job_id=job.id)
    return len(events) + len(stuck)


async def recover_sync_work(ctx: AppContext, grace_s: float) -> int:
    return await requeue_pending(ctx, older_than_s=grace_s)

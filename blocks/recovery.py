"""Start-up recovery: unfinished runs and pending deliveries go back on the queue, each at the
time it was due (the store holds the state; the queue only wakes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from app.clock import utcnow
from app.store.workflow_tables import block_deliveries, workflow_runs
from blocks.deliveries import enqueue_delivery
from blocks.runs import UNFINISHED, enqueue_run

if TYPE_CHECKING:
    from datetime import datetime

    from app.context import AppContext


def _due_in(when: datetime | None, now: datetime) -> float:
    return max(0.0, (when - now).total_seconds()) if when else 0.0


async def recover_workflow_runs(ctx: AppContext, grace_s: float = 0.0) -> int:
    """Unfinished runs and pending deliveries; the wake key changes per pass because a queue may
    still hold a dead worker's copy under an older key (which would swallow a same-keyed enqueue)."""
    now = utcnow()
    wake = f":recover{int(now.timestamp())}"
    async with ctx.store.connect() as conn:
        runs = (await conn.execute(select(workflow_runs.c.id, workflow_runs.c.status, workflow_runs.c.next_attempt_at,
                                          workflow_runs.c.lease_expires_at)
                                   .where(workflow_runs.c.status.in_(UNFINISHED)))).all()
        deliveries = (await conn.execute(select(block_deliveries.c.id, block_deliveries.c.next_attempt_at)
                                         .where(block_deliveries.c.status == "pending"))).all()
    for run in runs:
        due = run.next_attempt_at if run.status == "retrying" else run.lease_expires_at
        await enqueue_run(ctx, run.id, delay_s=_due_in(due, now), wake=wake)
    for delivery in deliveries:
        await enqueue_delivery(ctx, delivery.id, delay_s=_due_in(delivery.next_attempt_at, now), wake=wake)
    return len(runs) + len(deliveries)

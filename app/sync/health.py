"""The sync's part of GET /api/health."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.store.sync_tables import stripe_events, workspace_sync
from app.sync.backfill import latest_backfill

if TYPE_CHECKING:
    from app.context import AppContext


async def event_health(ctx: AppContext, workspace_id: str) -> dict[str, Any]:
    async with ctx.store.connect() as conn:
        counts: dict[str, int] = dict((await conn.execute(select(stripe_events.c.status, func.count()).where(
            stripe_events.c.workspace_id == workspace_id).group_by(stripe_events.c.status))).all())
        failures = (await conn.execute(select(
            stripe_events.c.event_id, stripe_events.c.type, stripe_events.c.last_error, stripe_events.c.attempts,
        ).where(stripe_events.c.workspace_id == workspace_id, stripe_events.c.status == "failed")
            .order_by(stripe_events.c.received_at.desc()).limit(5))).all()
        retrying = (await conn.execute(select(
            stripe_events.c.event_id, stripe_events.c.type, stripe_events.c.last_error, stripe_events.c.attempts,
        ).where(stripe_events.c.workspace_id == workspace_id, stripe_events.c.status == "pending",
                stripe_events.c.attempts > 0).order_by(stripe_events.c.received_at.desc()).limit(5))).all()
        sync = (await conn.execute(select(workspace_sync).where(workspace_sync.c.workspace_id == workspace_id))).first()
    return {
        "last_event_received_at": sync.last_event_received_at.isoformat() if sync and sync.last_event_received_at else None,
        "last_reconciled_at": sync.last_reconciled_at.isoformat() if sync and sync.last_reconciled_at else None,
        "reconcile_error": sync.reconcile_error if sync else None,
        "events": {"processed": counts.get("processed", 0), "pending": counts.get("pending", 0),
                   "failed": counts.get("failed", 0)},
        "recent_failures": [_failure(f) for f in failures],
        # Failed at least once and waiting for another attempt: shows why while Stripe or the CRM is degraded.
        "retrying": [_failure(r) for r in retrying],
    }


async def backfill_health(ctx: AppContext, workspace_id: str) -> dict[str, Any] | None:
    return await latest_backfill(ctx, workspace_id)


def _failure(row: Any) -> dict[str, Any]:
    return {"event_id": row.event_id, "type": row.type, "error": row.last_error, "attempts": row.attempts}

"""Reconcile: read `events.list` since the last pass and store what the webhook missed.

Stripe keeps events for 30 days, so a workspace whose reconcile has not run for longer than
that can only be repaired by a backfill (the settings panel says so)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from app.clock import utcnow
from app.connection.webhook_endpoint import workspace_gateway
from app.errors import AppError
from app.store.connections import get_connection
from app.store.dialect import insert_ignore
from app.store.sync_tables import workspace_sync
from app.store.workspaces import list_workspace_ids
from app.stripe.gateway import INVOICE_EVENTS
from app.sync.intake import store_event

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

OVERLAP_S = 120  # events become visible in the list a little after their `created`
RETENTION_S = 30 * 24 * 3600


async def reconcile_workspace(ctx: AppContext, workspace_id: str) -> int:
    """Store every invoice event since the last pass; returns how many were new."""
    connection = await get_connection(ctx.store, workspace_id)
    gateway = await workspace_gateway(ctx, workspace_id)
    if connection is None or gateway is None:
        return 0
    async with ctx.store.begin() as conn:
        await conn.execute(insert_ignore(conn.dialect.name, workspace_sync, workspace_id=workspace_id))
        row = (await conn.execute(select(workspace_sync).where(workspace_sync.c.workspace_id == workspace_id))).first()
    started = int(time.time())
    since_dt = row.last_reconciled_at if row and row.last_reconciled_at else connection.connected_at
    since = int(since_dt.timestamp()) - OVERLAP_S
    since = max(since, started - RETENTION_S)
    new = 0
    cursor: str | None = None
    try:
        while True:
            events, has_more = await gateway.list_events(types=INVOICE_EVENTS, created_gte=since, starting_after=cursor)
            for event in events:
                new += 0 if (await store_event(ctx, workspace_id, event, source="reconcile")).duplicate else 1
            if not has_more or not events:
                break
            cursor = events[-1]["id"]
    except AppError as exc:
        await _record(ctx, workspace_id, None, exc.message)
        raise
    await _record(ctx, workspace_id, datetime.fromtimestamp(started, UTC), None)
    if new:
        log.info("reconcile found missed events", extra={"workspace_id": workspace_id, "count": new})
    return new


async def _record(ctx: AppContext, workspace_id: str, reconciled_at: datetime | None, error: str | None) -> None:
    values: dict[str, object] = {"reconcile_error": error}
    if reconciled_at is not None:
        values["last_reconciled_at"] = reconciled_at
    async with ctx.store.begin() as conn:
        await conn.execute(update(workspace_sync).where(workspace_sync.c.workspace_id == workspace_id).values(**values))


async def reconcile_all(ctx: AppContext) -> None:
    for workspace_id in await list_workspace_ids(ctx.store):
        try:
            await reconcile_workspace(ctx, workspace_id)
        except AppError as exc:
            log.warning("reconcile failed", extra={"workspace_id": workspace_id, "error": exc.message})


def reconciled_recently(last: datetime | None) -> bool:
    return last is not None and (utcnow() - last).total_seconds() < RETENTION_S

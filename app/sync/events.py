"""Processing one stored Stripe event: the guarded upsert (if sync is on), then the triggers.

At least once (the queue and the sweep may run it again) with its effect applied once (the upsert
is keyed and guarded; a workflow run is unique per workflow and event)."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from app.clock import utcnow
from app.connection.webhook_endpoint import workspace_gateway
from app.errors import AppError
from app.store.sync_tables import stripe_events
from app.stripe.gateway import API_VERSION
from app.sync.upsert import Snapshot, upsert_invoices

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

# Events whose `data.object` is an invoice we mirror.
MIRRORED = frozenset({
    "invoice.created", "invoice.updated", "invoice.finalized", "invoice.sent", "invoice.paid",
    "invoice.payment_succeeded", "invoice.payment_failed", "invoice.voided", "invoice.marked_uncollectible",
})


async def mirror_event(ctx: AppContext, workspace_id: str, event: dict[str, Any]) -> str | None:
    """Upsert the event's invoice; returns the linked CRM person id, if any."""
    if event["type"] not in MIRRORED:
        return None
    invoice = event["data"]["object"]
    gateway = await workspace_gateway(ctx, workspace_id)
    observed_at = int(event.get("created") or 0)
    if event.get("api_version") not in (None, API_VERSION) and gateway is not None:
        # Shaped by another API version: read the invoice as we understand it instead.
        invoice, observed_at = await gateway.retrieve_invoice(invoice["id"]), int(time.time())
    outcomes = await upsert_invoices(ctx, workspace_id, [Snapshot(invoice, observed_at)], gateway=gateway)
    return outcomes[0].person_id if outcomes else None


async def _fire_triggers(ctx: AppContext, workspace_id: str, event: dict[str, Any], person_id: str | None) -> None:
    try:
        from blocks.dispatch import dispatch_stripe_event
    except ImportError:
        return
    await dispatch_stripe_event(ctx, workspace_id, event, person_id)


async def process_event(ctx: AppContext, workspace_id: str, event_row_id: str) -> None:
    async with ctx.store.connect() as conn:
        row = (await conn.execute(select(stripe_events).where(
            stripe_events.c.id == event_row_id, stripe_events.c.workspace_id == workspace_id))).first()
    if row is None or row.status == "processed":
        return
    event = json.loads(row.payload)
    try:
        person_id = await mirror_event(ctx, workspace_id, event)
        await _fire_triggers(ctx, workspace_id, event, person_id)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried, never lost
        await _record_failure(ctx, workspace_id, row, exc)
        return
    async with ctx.store.begin() as conn:
        await conn.execute(update(stripe_events).where(stripe_events.c.id == event_row_id).values(
            status="processed", processed_at=utcnow(), attempts=row.attempts + 1, last_error=None))
    ctx.metrics.events_processed.labels(outcome="ok").inc()
    if row.created:
        ctx.metrics.processing_lag.observe(max(0.0, time.time() - row.created))


async def _record_failure(ctx: AppContext, workspace_id: str, row: Any, exc: Exception) -> None:
    attempts = row.attempts + 1
    retryable = exc.retryable if isinstance(exc, AppError) else True
    message = exc.message if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
    final = not retryable or attempts >= ctx.settings.event_max_attempts
    log.warning("event processing failed", exc_info=not isinstance(exc, AppError),
                extra={"event": row.event_id, "attempts": attempts, "final": final, "error": message})
    async with ctx.store.begin() as conn:
        await conn.execute(update(stripe_events).where(stripe_events.c.id == row.id).values(
            status="failed" if final else "pending", attempts=attempts, last_error=message[:2000]))
    ctx.metrics.events_failed.inc()
    if not final:
        await ctx.jobs.enqueue("sync.process_event", key=f"event:{row.id}", delay_s=min(300.0, 2.0 ** attempts),
                               workspace_id=workspace_id, event_row_id=row.id)


async def retry_failed_events(ctx: AppContext, workspace_id: str) -> int:
    """Give failed events another round (settings panel button; after fixing the cause)."""
    async with ctx.store.begin() as conn:
        rows = (await conn.execute(select(stripe_events.c.id).where(
            stripe_events.c.workspace_id == workspace_id, stripe_events.c.status == "failed"))).all()
        await conn.execute(update(stripe_events).where(
            stripe_events.c.workspace_id == workspace_id, stripe_events.c.status == "failed").values(status="pending", attempts=0))
    for r in rows:
        await ctx.jobs.enqueue("sync.process_event", key=f"event:{r.id}", workspace_id=workspace_id, event_row_id=r.id)
    return len(rows)


"""Webhook intake: verify, store once, enqueue, answer. Nothing is acknowledged before it is stored."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.errors import AppError, ErrorCode
from app.secrets_box import new_id
from app.store.connections import get_connection
from app.store.dialect import insert_ignore
from app.store.sync_tables import stripe_events, workspace_sync
from app.stripe.webhooks import verify_event

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

PROCESS_JOB = "sync.process_event"


@dataclass(frozen=True)
class Intake:
    event_id: str
    duplicate: bool


def event_object_id(event: dict[str, Any]) -> str | None:
    obj = (event.get("data") or {}).get("object") or {}
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


async def receive_webhook(ctx: AppContext, workspace_id: str, payload: bytes, signature: str | None) -> Intake:
    row = await get_connection(ctx.store, workspace_id)
    if row is None or not row.webhook_secret_ciphertext:
        raise AppError(ErrorCode.NOT_FOUND, "No webhook endpoint is registered for this workspace.")
    event = verify_event(payload, signature, ctx.box.decrypt(row.webhook_secret_ciphertext))
    return await store_event(ctx, workspace_id, event, source="webhook")


async def store_event(ctx: AppContext, workspace_id: str, event: dict[str, Any], *, source: str) -> Intake:
    """Insert the event (unique per workspace) and queue its processing; a repeat is a no-op."""
    row_id = new_id("sev")
    now = utcnow()
    try:
        async with ctx.store.begin() as conn:
            await conn.execute(insert(stripe_events).values(
                id=row_id, workspace_id=workspace_id, event_id=event["id"], type=event["type"],
                object_id=event_object_id(event), created=int(event.get("created") or 0),
                payload=json.dumps(event), source=source, status="pending", attempts=0, received_at=now,
            ))
            await _touch_workspace_sync(conn, workspace_id, int(event.get("created") or 0), now if source == "webhook" else None)
    except IntegrityError:
        ctx.metrics.events_received.labels(duplicate="yes").inc()
        return Intake(event["id"], duplicate=True)
    ctx.metrics.events_received.labels(duplicate="no").inc()
    try:
        await ctx.jobs.enqueue(PROCESS_JOB, key=f"event:{row_id}", workspace_id=workspace_id, event_row_id=row_id)
    except Exception:
        # Stored but not queued: the pending sweep picks it up. Still acknowledged: it is safe.
        log.warning("could not enqueue a stored event; the sweep will", extra={"event": event["id"]}, exc_info=True)
    return Intake(event["id"], duplicate=False)


async def _touch_workspace_sync(conn: Any, workspace_id: str, created: int, received_at: Any) -> None:
    await conn.execute(insert_ignore(conn.dialect.name, workspace_sync, workspace_id=workspace_id))
    where = workspace_sync.c.workspace_id == workspace_id
    await conn.execute(update(workspace_sync).where(where, or_(
        workspace_sync.c.last_event_created.is_(None), workspace_sync.c.last_event_created < created,
    )).values(last_event_created=created))
    if received_at is not None:
        await conn.execute(update(workspace_sync).where(where).values(last_event_received_at=received_at))

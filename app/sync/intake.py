"""Webhook intake: verify, store once, enqueue, answer. Nothing is acknowledged before it is stored."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
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


SECRET_TTL_S = 10.0  # other servers see a replaced or removed endpoint within this
SECRETS_CACHE = "app.sync.intake.secrets"


async def _endpoint_secret(ctx: AppContext, workspace_id: str, *, fresh: bool) -> str:
    """The workspace's webhook secret, cached briefly: it is read on every delivery."""
    cache: dict[str, tuple[str, float]] = ctx.caches.setdefault(SECRETS_CACHE, {})
    hit = cache.get(workspace_id)
    if hit is not None and not fresh and hit[1] > time.monotonic():
        return hit[0]
    row = await get_connection(ctx.store, workspace_id)
    if row is None or not row.webhook_secret_ciphertext:
        cache.pop(workspace_id, None)
        raise AppError(ErrorCode.NOT_FOUND, "No webhook endpoint is registered for this workspace.")
    secret = ctx.box.decrypt(row.webhook_secret_ciphertext)
    cache[workspace_id] = (secret, time.monotonic() + SECRET_TTL_S)
    return secret


async def receive_webhook(ctx: AppContext, workspace_id: str, payload: bytes, signature: str | None) -> Intake:
    try:
        event = verify_event(payload, signature, await _endpoint_secret(ctx, workspace_id, fresh=False))
    except AppError as exc:
        if exc.code is not ErrorCode.WEBHOOK_SIGNATURE:
            raise
        # The endpoint may have been replaced (reconnect) since the secret was cached.
        event = verify_event(payload, signature, await _endpoint_secret(ctx, workspace_id, fresh=True))
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
            if source == "webhook":
                await _touch_workspace_sync(conn, workspace_id, now)
    except IntegrityError:
        if not await _event_stored(ctx, workspace_id, event["id"]):
            raise AppError(ErrorCode.NOT_FOUND, "This workspace no longer exists.") from None
        ctx.metrics.events_received.labels(duplicate="yes").inc()
        return Intake(event["id"], duplicate=True)
    ctx.metrics.events_received.labels(duplicate="no").inc()
    try:
        await ctx.jobs.enqueue(PROCESS_JOB, key=f"event:{row_id}", workspace_id=workspace_id, event_row_id=row_id)
    except Exception:
        # Stored but not queued: the pending sweep picks it up. Still acknowledged: it is safe.
        log.warning("could not enqueue a stored event; the sweep will", extra={"event": event["id"]}, exc_info=True)
    return Intake(event["id"], duplicate=False)


async def _event_stored(ctx: AppContext, workspace_id: str, event_id: str) -> bool:
    async with ctx.store.connect() as conn:
        found = (await conn.execute(select(stripe_events.c.id).where(
            stripe_events.c.workspace_id == workspace_id, stripe_events.c.event_id == event_id))).first()
    return found is not None


def forget_endpoint_secret(ctx: AppContext, workspace_id: str) -> None:
    ctx.caches.get(SECRETS_CACHE, {}).pop(workspace_id, None)


async def _touch_workspace_sync(conn: Any, workspace_id: str, received_at: Any) -> None:
    """One UPDATE per event in the common case: every webhook of a workspace writes this row,
    so it stays as short as possible inside the event's transaction."""
    where = workspace_sync.c.workspace_id == workspace_id
    result = await conn.execute(update(workspace_sync).where(where).values(last_event_received_at=received_at))
    if result.rowcount == 0:
        await conn.execute(insert_ignore(conn.dialect.name, workspace_sync, workspace_id=workspace_id,
                                         last_event_received_at=received_at))

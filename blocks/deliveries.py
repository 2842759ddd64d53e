"""Callback deliveries to activated external triggers: one per (activation, event), posted signed,
retried with backoff until a 2xx or the attempts run out; never after deactivation."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import utcnow
from app.store.dialect import insert_ignore
from app.store.workflow_tables import block_activations, block_deliveries
from blocks.retry import CALLBACK_RETRY, RetryPolicy
from blocks.signing import SIGNATURE_HEADER, activation_secret, sign

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

DELIVER_JOB = "blocks.deliver_callback"
SECRET_PURPOSE = "block-activation-secrets"
CALLBACK_TIMEOUT_S = 10.0


def delivery_id_for(workspace_id: str, activation_id: str, event_key: str) -> str:
    digest = hashlib.sha256(f"{workspace_id}\x1f{activation_id}\x1f{event_key}".encode()).hexdigest()
    return "dlv_" + digest[:24]


def secret_for(ctx: AppContext, workspace_id: str, activation_id: str) -> str:
    return activation_secret(ctx.box.derive(SECRET_PURPOSE), workspace_id, activation_id)


async def insert_delivery(conn: AsyncConnection, workspace_id: str, activation: Any, event_key: str,
                          outcome: dict[str, Any]) -> str:
    """Create the delivery unless this activation already has one for this event; returns its id."""
    delivery_id = delivery_id_for(workspace_id, activation.activation_id, event_key)
    body = json.dumps({
        "id": delivery_id, "activation_id": activation.activation_id, "block_id": activation.block_id,
        "event_id": event_key, "created": int(time.time()), "outcome": outcome,
    }, separators=(",", ":"))
    await conn.execute(insert_ignore(
        conn.dialect.name, block_deliveries, id=delivery_id, workspace_id=workspace_id,
        activation_id=activation.activation_id, event_key=event_key, body=body, status="pending",
        attempts=0, created_at=utcnow(),
    ))
    return delivery_id


async def enqueue_delivery(ctx: AppContext, delivery_id: str, *, delay_s: float = 0.0, wake: str = "") -> None:
    await ctx.jobs.enqueue(DELIVER_JOB, key=f"delivery:{delivery_id}{wake}", delay_s=delay_s, delivery_id=delivery_id)


async def _claim(ctx: AppContext, delivery_id: str) -> tuple[Any, int] | None:
    """(delivery, attempt number) when it is due and ours to send; marks cancelled ones."""
    now = utcnow()
    async with ctx.store.begin() as conn:
        row = (await conn.execute(
            select(block_deliveries, block_activations.c.callback_url, block_activations.c.active)
            .join(block_activations, (block_activations.c.workspace_id == block_deliveries.c.workspace_id)
                  & (block_activations.c.activation_id == block_deliveries.c.activation_id))
            .where(block_deliveries.c.id == delivery_id)
        )).first()
        if row is None or row.status != "pending":
            return None
        if not row.active:
            await conn.execute(update(block_deliveries).where(block_deliveries.c.id == delivery_id)
                               .values(status="cancelled", next_attempt_at=None))
            return None
        # The in-flight mark: a second worker woken for the same delivery finds it not due.
        claimed = await conn.execute(update(block_deliveries).where(
            block_deliveries.c.id == delivery_id, block_deliveries.c.attempts == row.attempts,
            or_(block_deliveries.c.next_attempt_at.is_(None), block_deliveries.c.next_attempt_at <= now + timedelta(seconds=1)),
        ).values(attempts=row.attempts + 1, next_attempt_at=now + timedelta(seconds=CALLBACK_TIMEOUT_S * 3)))
        if claimed.rowcount != 1:
            return None
    return row, row.attempts + 1


async def _post(ctx: AppContext, url: str, secret: str, body: str, delivery_id: str) -> tuple[int | None, str | None]:
    raw = body.encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, raw, int(time.time())),
        "X-Invoicing-Delivery": delivery_id,
        "Idempotency-Key": delivery_id,
    }
    try:
        response = await ctx.http.post(url, content=raw, headers=headers, timeout=CALLBACK_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return response.status_code, None


async def deliver_callback(ctx: AppContext, delivery_id: str, *, policy: RetryPolicy = CALLBACK_RETRY) -> None:
    """The `blocks.deliver_callback` job: one attempt, then done, re-queued, or given up."""
    claimed = await _claim(ctx, delivery_id)
    if claimed is None:
        return
    row, attempt = claimed
    secret = secret_for(ctx, row.workspace_id, row.activation_id)
    status, error = await _post(ctx, row.callback_url, secret, row.body, delivery_id)
    where = block_deliveries.c.id == delivery_id
    retry_in: float | None = None
    values: dict[str, Any] = {"last_status_code": status, "last_error": error or f"answered {status}"}
    if status is not None and 200 <= status < 300:
        values |= {"status": "delivered", "delivered_at": utcnow(), "next_attempt_at": None, "last_error": None}
    elif attempt >= policy.max_attempts:
        values |= {"status": "failed", "next_attempt_at": None}
    else:
        retry_in = policy.delay(attempt)
        values |= {"next_attempt_at": utcnow() + timedelta(seconds=retry_in)}
    async with ctx.store.begin() as conn:
        await conn.execute(update(block_deliveries).where(where, block_deliveries.c.status == "pending").values(**values))
    if retry_in is not None:
        await enqueue_delivery(ctx, delivery_id, delay_s=retry_in, wake=f":{attempt}")
    log.info("callback delivery attempt", extra={"delivery": delivery_id, "attempt": attempt, "status_code": status,
                                                  "outcome": values.get("status", "retrying")})

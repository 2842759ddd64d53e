"""Resumable backfill: page through `invoices.list`, upsert each page through the guarded path,
commit cursor and counts per page. One job per workspace at a time; a runner holds a lease it
renews per page, so a killed runner's job is taken over (from its last committed page) once the
lease lapses, and two runners never work one job at once."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.connection.service import require_gateway
from app.errors import AppError, ErrorCode
from app.secrets_box import new_id
from app.store.sync_tables import jobs
from app.sync.upsert import Snapshot, upsert_invoices

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

BACKFILL_JOB = "sync.backfill"
PAGE_SIZE = 100
PAGE_ATTEMPTS = 8


def _active_key(workspace_id: str) -> str:
    return f"backfill:{workspace_id}"


@dataclass(frozen=True)
class StartedJob:
    job_id: str
    already_running: bool


async def start_backfill(ctx: AppContext, workspace_id: str) -> StartedJob:
    """Queue a backfill; a running one is reported instead, and a failed one resumes its cursor."""
    await require_gateway(ctx, workspace_id)
    now = utcnow()
    async with ctx.store.begin() as conn:
        active = (await conn.execute(select(jobs.c.id).where(jobs.c.active_key == _active_key(workspace_id)))).first()
        if active is not None:
            return StartedJob(active.id, already_running=True)
        last = (await conn.execute(select(jobs).where(jobs.c.workspace_id == workspace_id, jobs.c.kind == "backfill")
                                   .order_by(jobs.c.created_at.desc()).limit(1))).first()
        if last is not None and last.status == "failed":
            job_id = last.id
            await conn.execute(update(jobs).where(jobs.c.id == job_id).values(
                status="queued", active_key=_active_key(workspace_id), error=None, updated_at=now, finished_at=None))
        else:
            job_id = new_id("job")
            try:
                await conn.execute(insert(jobs).values(
                    id=job_id, workspace_id=workspace_id, kind="backfill", status="queued",
                    active_key=_active_key(workspace_id), pages=0, seen=0, created=0, updated=0, unchanged=0,
                    unmatched=0, created_at=now, updated_at=now))
            except IntegrityError:
                raise AppError(ErrorCode.JOB_RUNNING, "A backfill is already running for this workspace.") from None
    await ctx.jobs.enqueue(BACKFILL_JOB, key=f"backfill:{job_id}", job_id=job_id)
    return StartedJob(job_id, already_running=False)


async def _claim(ctx: AppContext, job_id: str, owner: str) -> Any | None:
    now = utcnow()
    async with ctx.store.begin() as conn:
        result = await conn.execute(update(jobs).where(
            jobs.c.id == job_id, jobs.c.status.in_(("queued", "running")),
            or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at < now, jobs.c.lease_owner == owner),
        ).values(status="running", lease_owner=owner, lease_expires_at=now + timedelta(seconds=ctx.settings.job_lease_s),
                 started_at=now, updated_at=now))
        if result.rowcount != 1:
            return None
        return (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()


async def _lease_left(ctx: AppContext, job_id: str) -> float | None:
    async with ctx.store.connect() as conn:
        row = (await conn.execute(select(jobs.c.status, jobs.c.lease_expires_at).where(jobs.c.id == job_id))).first()
    if row is None or row.status not in ("queued", "running") or row.lease_expires_at is None:
        return None
    left: float = (row.lease_expires_at - utcnow()).total_seconds()
    return max(0.0, left)


async def run_backfill(ctx: AppContext, job_id: str) -> None:
    owner = f"{ctx.role}-{secrets.token_hex(6)}"
    job = await _claim(ctx, job_id, owner)
    if job is None:
        left = await _lease_left(ctx, job_id)
        if left is not None:  # someone holds it; look again when their lease would lapse
            await ctx.jobs.enqueue(BACKFILL_JOB, key=f"backfill:{job_id}:after-lease:{int(time.time())}",
                                   delay_s=left + 0.5, job_id=job_id)
        return
    ctx.metrics.backfill_running.inc()
    try:
        await _run_pages(ctx, job, owner)
    except AppError as exc:
        await _finish(ctx, job_id, owner, "failed", exc.message)
    except Exception as exc:
        log.exception("backfill crashed", extra={"job": job_id})
        await _finish(ctx, job_id, owner, "failed", f"Unexpected error: {type(exc).__name__}. Start the sync again to resume.")
    finally:
        ctx.metrics.backfill_running.dec()


async def _run_pages(ctx: AppContext, job: Any, owner: str) -> None:
    gateway = await require_gateway(ctx, job.workspace_id)
    cursor: str | None = job.cursor
    while True:
        # A page shows Stripe's state at some moment after the request left: stamp it with that
        # second, not the response's, or a change in between (whose event has an earlier `created`)
        # would be judged older than the page and lose to the stale state it shows.
        asked_at = int(time.time())
        invoices, has_more = await _with_retries(partial(gateway.list_invoices, limit=PAGE_SIZE, starting_after=cursor))
        snapshots = [Snapshot(inv, asked_at) for inv in invoices]
        outcomes = await _with_retries(partial(upsert_invoices, ctx, job.workspace_id, snapshots, gateway=gateway))
        counts = {k: sum(1 for o in outcomes if o.result == k) for k in ("created", "updated", "unchanged")}
        unmatched = sum(1 for o in outcomes if o.unmatched and o.result != "skipped")
        for kind, n in counts.items():
            ctx.metrics.backfill_invoices.labels(result=kind).inc(n)
        cursor = invoices[-1]["id"] if invoices else cursor
        if not await _commit_page(ctx, job.id, owner, cursor, len(invoices), counts, unmatched):
            log.warning("backfill lease lost; another runner continues", extra={"job": job.id})
            return
        if not has_more or not invoices:
            await _finish(ctx, job.id, owner, "succeeded", None)
            return


async def _with_retries(fn: Any) -> Any:
    """A page is retried on errors a retry can fix; the job fails (resumable) after that."""
    for attempt in range(PAGE_ATTEMPTS):
        try:
            return await fn()
        except AppError as exc:
            if not exc.retryable or attempt == PAGE_ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(10.0, 0.2 * 2 ** attempt))
    raise AssertionError("unreachable")


async def _commit_page(ctx: AppContext, job_id: str, owner: str, cursor: str | None, seen: int,
                       counts: dict[str, int], unmatched: int) -> bool:
    now = utcnow()
    async with ctx.store.begin() as conn:
        result = await conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.lease_owner == owner).values(
            cursor=cursor, pages=jobs.c.pages + 1, seen=jobs.c.seen + seen,
            created=jobs.c.created + counts["created"], updated=jobs.c.updated + counts["updated"],
            unchanged=jobs.c.unchanged + counts["unchanged"], unmatched=jobs.c.unmatched + unmatched,
            updated_at=now, lease_expires_at=now + timedelta(seconds=ctx.settings.job_lease_s)))
    return result.rowcount == 1


async def _finish(ctx: AppContext, job_id: str, owner: str, status: str, error: str | None) -> None:
    now = utcnow()
    async with ctx.store.begin() as conn:
        await conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.lease_owner == owner).values(
            status=status, error=error, active_key=None, finished_at=now, updated_at=now,
            lease_owner=None, lease_expires_at=None))
    log.info("backfill finished", extra={"job": job_id, "status": status})


def job_json(row: Any) -> dict[str, Any]:
    started, updated = row.started_at, row.updated_at
    elapsed = (updated - started).total_seconds() if started and updated else 0.0
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "cursor": row.cursor,
        "pages": row.pages,
        "counts": {"seen": row.seen, "created": row.created, "updated": row.updated,
                   "unchanged": row.unchanged, "unmatched": row.unmatched},
        "rate_per_s": round(row.seen / elapsed, 1) if elapsed > 0 else None,
        "error": row.error,
        "created_at": row.created_at.isoformat(),
        "started_at": started.isoformat() if started else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


async def get_job(ctx: AppContext, workspace_id: str, job_id: str) -> dict[str, Any]:
    async with ctx.store.connect() as conn:
        row = (await conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.workspace_id == workspace_id))).first()
    if row is None:
        raise AppError(ErrorCode.NOT_FOUND, "No such job in this workspace.")
    return job_json(row)


async def latest_backfill(ctx: AppContext, workspace_id: str) -> dict[str, Any] | None:
    async with ctx.store.connect() as conn:
        row = (await conn.execute(select(jobs).where(jobs.c.workspace_id == workspace_id, jobs.c.kind == "backfill")
                                  .order_by(jobs.c.created_at.desc()).limit(1))).first()
    return job_json(row) if row else None

"""Executing a workflow run, step by step, from wherever it stopped.

Each step is recorded before it runs (inputs, attempt number) and after (outcome or error), so a
crash leaves an honest history and the next wake-up resumes at the first unfinished step. A lease
keeps two workers off one run; the execution id `<run id>.<position>` keeps a step's external
effect single even if a crash forces it to run again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update

from app.clock import utcnow
from app.secrets_box import new_id
from app.store.dialect import insert_ignore
from app.store.workflow_tables import workflow_run_steps, workflow_runs
from blocks.errors import BlockErrorCode, StepFailure
from blocks.registry import BLOCKS
from blocks.retry import STEP_RETRY, RetryPolicy
from blocks.runs import UNFINISHED, enqueue_run
from blocks.steps import StepResult, run_step
from blocks.templates import Scope, TemplateSyntaxError, render

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)
_EARLY_S = 1.0


class _RunGone(Exception):
    """The run (its workflow) was deleted while it ran."""


def execution_id(run_id: str, position: int) -> str:
    return f"{run_id}.{position}"


async def _claim(ctx: AppContext, run_id: str, owner: str) -> Any | None:
    """Take the run's lease; None when it is finished, leased by another worker, or not due yet."""
    now = utcnow()
    leased_until = None
    async with ctx.store.begin() as conn:
        # FOR UPDATE: on Postgres a second claimant waits here, then sees the lease (SQLite's
        # write transactions are serial already).
        run = (await conn.execute(select(workflow_runs).where(workflow_runs.c.id == run_id).with_for_update())).first()
        if run is None or run.status not in UNFINISHED:
            return None
        if run.status == "retrying" and run.next_attempt_at and run.next_attempt_at > now + timedelta(seconds=_EARLY_S):
            return None  # woken early (a repeated trigger); the scheduled wake-up comes later
        if run.lease_expires_at is not None and run.lease_expires_at > now:
            leased_until = run.lease_expires_at
        else:
            await conn.execute(update(workflow_runs).where(workflow_runs.c.id == run_id).values(
                status="running", lease_owner=owner, lease_expires_at=now + timedelta(seconds=ctx.settings.workflow_lease_s),
                started_at=run.started_at or now, next_attempt_at=None,
            ))
    if leased_until is not None:
        # Another worker has it, or had it and died: look again when the lease runs out.
        wait = (leased_until - now).total_seconds() + 1
        await enqueue_run(ctx, run_id, delay_s=wait, wake=f":lease:{int(leased_until.timestamp())}")
        return None
    return run


async def _release(ctx: AppContext, run_id: str, owner: str) -> None:
    async with ctx.store.begin() as conn:
        await conn.execute(update(workflow_runs).where(
            workflow_runs.c.id == run_id, workflow_runs.c.lease_owner == owner,
        ).values(lease_owner=None, lease_expires_at=None))


async def _scope(ctx: AppContext, run: Any) -> Scope:
    async with ctx.store.connect() as conn:
        rows = (await conn.execute(select(workflow_run_steps).where(
            workflow_run_steps.c.run_id == run.id, workflow_run_steps.c.status == "succeeded",
        ).order_by(workflow_run_steps.c.position))).all()
    outcomes = [r.outcome for r in rows if r.position < run.current_step]
    keys = {spec["key"]: i for i, spec in enumerate(run.steps) if spec.get("key")}
    return Scope(trigger=run.trigger_outcome, steps=outcomes, keys=keys)


async def run_workflow(ctx: AppContext, run_id: str, *, policy: RetryPolicy = STEP_RETRY) -> None:
    """The `workflows.run` job."""
    owner = new_id("lease")
    run = await _claim(ctx, run_id, owner)
    if run is None:
        return
    try:
        await _advance(ctx, run, owner, policy)
    except _RunGone:
        log.info("workflow deleted while its run was in progress", extra={"run": run_id})
    finally:
        await _release(ctx, run_id, owner)


async def _advance(ctx: AppContext, run: Any, owner: str, policy: RetryPolicy) -> None:
    scope = await _scope(ctx, run)
    for position in range(run.current_step, len(run.steps)):
        spec = run.steps[position]
        result, attempt, entry = await _attempt(ctx, run, owner, position, spec, scope)
        if result.outcome is not None:
            await _record_step(ctx, run.id, position, "succeeded", entry, outcome=result.outcome)
            await _set_run(ctx, run.id, current_step=position + 1)
            scope.steps.append(result.outcome)
            continue
        failure = result.failure
        assert failure is not None
        if failure.retryable and attempt < policy.max_attempts:
            delay = policy.delay(attempt)
            await _record_step(ctx, run.id, position, "retrying", entry, error=failure)
            # The lease goes with this write: the wake-up below may run before our `finally`.
            await _set_run(ctx, run.id, status="retrying", next_attempt_at=utcnow() + timedelta(seconds=delay),
                           lease_owner=None, lease_expires_at=None)
            await enqueue_run(ctx, run.id, delay_s=delay, wake=f":{position}:{attempt}")
            log.info("workflow step will be retried", extra={"run": run.id, "step": position, "attempt": attempt,
                                                             "delay_s": round(delay, 1), "code": failure.code})
            return
        await _record_step(ctx, run.id, position, "failed", entry, error=failure)
        await _set_run(ctx, run.id, status="failed", finished_at=utcnow(),
                       error={"step": position, "block_id": spec["block_id"], **failure.to_json()})
        ctx.metrics.workflow_runs.labels(status="failed").inc()
        return
    await _set_run(ctx, run.id, status="succeeded", finished_at=utcnow(), error=None)
    ctx.metrics.workflow_runs.labels(status="succeeded").inc()


async def _attempt(ctx: AppContext, run: Any, owner: str, position: int, spec: dict[str, Any],
                   scope: Scope) -> tuple[StepResult, int, dict[str, Any]]:
    """Run one attempt of one step: (its result, the attempt number, its attempt-log entry)."""
    block = BLOCKS.get(spec["block_id"])
    inputs: dict[str, Any] | None = None
    failure: StepFailure | None = None
    if block is None or block.execute is None:
        failure = StepFailure(BlockErrorCode.INVALID_CONFIG.value, f"Block '{spec['block_id']}' no longer exists.", False)
    else:
        try:
            inputs = render(spec.get("config") or {}, scope)
        except TemplateSyntaxError as exc:
            failure = StepFailure(BlockErrorCode.INVALID_CONFIG.value, str(exc), False)
    attempt, started = await _start_step(ctx, run.id, owner, position, spec["block_id"], inputs)
    if failure is None:
        assert block is not None and inputs is not None
        result = await run_step(ctx, block, run.workspace_id, execution_id(run.id, position), inputs)
    else:
        result = StepResult(failure=failure)
    entry: dict[str, Any] = {"attempt": attempt, "started_at": started.isoformat(), "finished_at": utcnow().isoformat()}
    if result.failure is not None:
        entry["error"] = result.failure.to_json()
    return result, attempt, entry


async def _start_step(ctx: AppContext, run_id: str, owner: str, position: int, block_id: str,
                      inputs: dict[str, Any] | None) -> tuple[int, Any]:
    now = utcnow()
    where = and_(workflow_run_steps.c.run_id == run_id, workflow_run_steps.c.position == position)
    async with ctx.store.begin() as conn:
        if await conn.scalar(select(workflow_runs.c.id).where(workflow_runs.c.id == run_id)) is None:
            raise _RunGone(run_id)
        await conn.execute(insert_ignore(
            conn.dialect.name, workflow_run_steps, run_id=run_id, position=position, block_id=block_id,
            status="running", attempts=0, attempt_log=[], started_at=now,
        ))
        attempts = int(await conn.scalar(select(workflow_run_steps.c.attempts).where(where)) or 0) + 1
        await conn.execute(update(workflow_run_steps).where(where).values(
            status="running", inputs=inputs, attempts=attempts, finished_at=None))
        await conn.execute(update(workflow_runs).where(
            workflow_runs.c.id == run_id, or_(workflow_runs.c.lease_owner == owner, workflow_runs.c.lease_owner.is_(None)),
        ).values(lease_expires_at=now + timedelta(seconds=ctx.settings.workflow_lease_s)))
    return attempts, now


async def _record_step(ctx: AppContext, run_id: str, position: int, status: str, entry: dict[str, Any], *,
                       outcome: dict[str, Any] | None = None, error: StepFailure | None = None) -> None:
    where = and_(workflow_run_steps.c.run_id == run_id, workflow_run_steps.c.position == position)
    async with ctx.store.begin() as conn:
        log_so_far = list(await conn.scalar(select(workflow_run_steps.c.attempt_log).where(where)) or [])
        await conn.execute(update(workflow_run_steps).where(where).values(
            status=status, outcome=outcome, error=error.to_json() if error else None,
            attempt_log=[*log_so_far, entry],
            finished_at=utcnow() if status in ("succeeded", "failed") else None,
        ))


async def _set_run(ctx: AppContext, run_id: str, **values: Any) -> None:
    async with ctx.store.begin() as conn:
        await conn.execute(update(workflow_runs).where(workflow_runs.c.id == run_id).values(**values))

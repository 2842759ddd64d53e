"""Workflow runs in the store: one per (workflow, event), created by a trigger, read as history."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import utcnow
from app.store.dialect import insert_ignore
from app.store.workflow_tables import workflow_run_steps, workflow_runs

if TYPE_CHECKING:
    from app.context import AppContext

RUN_JOB = "workflows.run"
UNFINISHED = ("queued", "running", "retrying")


def run_id_for(workflow_id: str, event_key: str) -> str:
    """Deterministic, so a repeated trigger names the same run (the unique key still decides)."""
    return "run_" + hashlib.sha256(f"{workflow_id}\x1f{event_key}".encode()).hexdigest()[:24]


async def insert_run(conn: AsyncConnection, workspace_id: str, workflow: Any, event_key: str,
                     outcome: dict[str, Any]) -> str:
    """Create the run unless this workflow already has one for this event; returns its id."""
    run_id = run_id_for(workflow.id, event_key)
    await conn.execute(insert_ignore(
        conn.dialect.name, workflow_runs,
        id=run_id, workspace_id=workspace_id, workflow_id=workflow.id, event_key=event_key,
        trigger_outcome=outcome, steps=workflow.steps, status="queued", current_step=0, created_at=utcnow(),
    ))
    return run_id


async def enqueue_run(ctx: AppContext, run_id: str, *, delay_s: float = 0.0, wake: str = "") -> None:
    # A distinct key per wake-up: a job cannot re-queue itself under its own (still running) key.
    await ctx.jobs.enqueue(RUN_JOB, key=f"run:{run_id}{wake}", delay_s=delay_s, run_id=run_id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _step_json(position: int, spec: dict[str, Any], row: Any | None) -> dict[str, Any]:
    base: dict[str, Any] = {"position": position, "block_id": spec["block_id"], "key": spec.get("key")}
    if row is None:
        return {**base, "status": "pending", "inputs": None, "outcome": None, "error": None, "attempts": 0,
                "attempt_log": [], "started_at": None, "finished_at": None}
    return {
        **base, "status": row.status, "inputs": row.inputs, "outcome": row.outcome, "error": row.error,
        "attempts": row.attempts, "attempt_log": row.attempt_log, "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
    }


def run_json(run: Any, step_rows: list[Any]) -> dict[str, Any]:
    by_position = {r.position: r for r in step_rows}
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "event_id": run.event_key,
        "status": run.status,
        "trigger": run.trigger_outcome,
        "current_step": run.current_step,
        "error": run.error,
        "next_attempt_at": _iso(run.next_attempt_at) if run.status == "retrying" else None,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "steps": [_step_json(i, spec, by_position.get(i)) for i, spec in enumerate(run.steps)],
    }


async def list_runs(ctx: AppContext, workspace_id: str, workflow_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, each with its steps."""
    async with ctx.store.connect() as conn:
        runs = (await conn.execute(
            select(workflow_runs)
            .where(workflow_runs.c.workspace_id == workspace_id, workflow_runs.c.workflow_id == workflow_id)
            .order_by(workflow_runs.c.created_at.desc(), workflow_runs.c.id)
            .limit(limit)
        )).all()
        ids = [r.id for r in runs]
        steps = (await conn.execute(
            select(workflow_run_steps).where(workflow_run_steps.c.run_id.in_(ids))
        )).all() if ids else []
    grouped: dict[str, list[Any]] = {}
    for row in steps:
        grouped.setdefault(row.run_id, []).append(row)
    return [run_json(r, grouped.get(r.id, [])) for r in runs]

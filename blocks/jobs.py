"""The block runtime's queue jobs (registered by `app.jobs.registry`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.jobs.base import Handler
from blocks.deliveries import DELIVER_JOB, deliver_callback
from blocks.runner import run_workflow
from blocks.runs import RUN_JOB

if TYPE_CHECKING:
    from app.context import AppContext


async def _run(ctx: AppContext, kw: dict[str, Any]) -> None:
    await run_workflow(ctx, kw["run_id"])


async def _deliver(ctx: AppContext, kw: dict[str, Any]) -> None:
    await deliver_callback(ctx, kw["delivery_id"])


WORKFLOW_JOBS: dict[str, Handler] = {
    RUN_JOB: _run,
    DELIVER_JOB: _deliver,
}

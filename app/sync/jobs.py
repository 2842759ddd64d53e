"""The sync's queue jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.jobs.base import Handler
from app.sync.backfill import BACKFILL_JOB, run_backfill
from app.sync.events import process_event
from app.sync.intake import PROCESS_JOB
from app.sync.reconcile import reconcile_all

if TYPE_CHECKING:
    from app.config import Settings
    from app.context import AppContext


async def _process(ctx: AppContext, kw: dict[str, Any]) -> None:
    await process_event(ctx, kw["workspace_id"], kw["event_row_id"])


async def _backfill(ctx: AppContext, kw: dict[str, Any]) -> None:
    await run_backfill(ctx, kw["job_id"])


async def _reconcile(ctx: AppContext, kw: dict[str, Any]) -> None:
    await reconcile_all(ctx)


SYNC_JOBS: dict[str, Handler] = {
    PROCESS_JOB: _process,
    BACKFILL_JOB: _backfill,
    "sync.reconcile": _reconcile,
}



def periodic(settings: Settings) -> list[tuple[str, float]]:
    return [("sync.reconcile", settings.reconcile_interval_s)]

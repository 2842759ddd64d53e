"""Job names -> handlers, and the periodic jobs. Imported lazily to keep start-up acyclic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.jobs.base import Handler

if TYPE_CHECKING:
    from app.config import Settings


def job_handlers() -> dict[str, Handler]:
    from app.jobs.recovery import sweep

    handlers: dict[str, Handler] = {"maintenance.sweep": sweep}
    try:
        from app.sync.jobs import SYNC_JOBS
    except ImportError:  # the sync package is not built yet
        SYNC_JOBS = {}
    handlers.update(SYNC_JOBS)
    try:
        from blocks.jobs import WORKFLOW_JOBS
    except ImportError:
        WORKFLOW_JOBS = {}
    handlers.update(WORKFLOW_JOBS)
    return handlers


def periodic_jobs(settings: Settings) -> list[tuple[str, float]]:
    """(job name, interval seconds) run for the whole deployment."""
    jobs = [("maintenance.sweep", settings.sweep_interval_s)]
    try:
        from app.sync.jobs import periodic
    except ImportError:
        return jobs
    return jobs + periodic(settings)

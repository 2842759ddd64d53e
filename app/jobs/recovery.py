"""Recovery: whatever the store says is unfinished goes back on the queue, at start-up and
periodically (so work whose queue entry was lost, e.g. with a Redis restart, still runs)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

# (ctx, grace seconds): re-enqueue what has been unfinished for longer than the grace period.
Recoverer = Callable[["AppContext", float], Awaitable[int]]


def _recoverers() -> list[Recoverer]:
    found: list[Recoverer] = []
    try:
        from app.sync.recovery import recover_sync_work

        found.append(recover_sync_work)
    except ImportError:
        pass
    try:
        from blocks.recovery import recover_workflow_runs

        found.append(recover_workflow_runs)
    except ImportError:
        pass
    return found


async def recover_unfinished(ctx: AppContext, grace_s: float = 0.0) -> None:
    """At start-up (grace 0) and periodically (the sweep, with a grace period)."""
    for recover in _recoverers():
        count = await recover(ctx, grace_s)
        if count:
            log.info("re-enqueued unfinished work", extra={"recoverer": recover.__name__, "count": count})


async def sweep(ctx: AppContext, kwargs: dict[str, object]) -> None:
    await recover_unfinished(ctx, ctx.settings.pending_event_grace_s)

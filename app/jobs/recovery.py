"""Start-up recovery: whatever the store says is unfinished goes back on the queue."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

Recoverer = Callable[["AppContext"], Awaitable[int]]


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


async def recover_unfinished(ctx: AppContext) -> None:
    for recover in _recoverers():
        count = await recover(ctx)
        if count:
            log.info("re-enqueued unfinished work", extra={"recoverer": recover.__name__, "count": count})

"""An in-process job runner for the single-process default (no Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from app.jobs.registry import job_handlers, periodic_jobs

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


class InProcessJobs:
    def __init__(self, concurrency: int = 4, *, periodic: bool = True) -> None:
        self._concurrency = concurrency
        self._periodic = periodic
        self._queue: asyncio.Queue[tuple[str, str | None, dict[str, Any]]] = asyncio.Queue()
        self._pending_keys: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._ctx: AppContext | None = None

    async def enqueue(self, name: str, *, key: str | None = None, delay_s: float = 0.0, **kwargs: Any) -> None:
        if key is not None:
            if key in self._pending_keys:
                return
            self._pending_keys.add(key)
        if delay_s > 0:
            loop = asyncio.get_running_loop()
            loop.call_later(delay_s, self._queue.put_nowait, (name, key, kwargs))
        else:
            await self._queue.put((name, key, kwargs))

    async def start(self, ctx: AppContext) -> None:
        self._ctx = ctx
        handlers = job_handlers()
        self._tasks = [asyncio.create_task(self._work(handlers)) for _ in range(self._concurrency)]
        if self._periodic:
            for name, interval in periodic_jobs(ctx.settings):
                self._tasks.append(asyncio.create_task(self._every(name, interval)))

    async def _work(self, handlers: dict[str, Any]) -> None:
        assert self._ctx is not None
        while True:
            name, key, kwargs = await self._queue.get()
            if key is not None:
                self._pending_keys.discard(key)
            try:
                await handlers[name](self._ctx, kwargs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job failed", extra={"job": name})
            finally:
                self._queue.task_done()

    async def _every(self, name: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.enqueue(name, key=f"periodic:{name}")

    async def drain(self) -> None:
        """Wait until every queued job has run (tests, shutdown)."""
        await self._queue.join()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def ping(self) -> None:
        if self._ctx is not None and not any(not t.done() for t in self._tasks):
            raise RuntimeError("in-process job runner is not running")

"""arq on Redis: `ArqJobs` enqueues; `run_worker` consumes (`invoicing worker`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.cron import cron
from arq.worker import Function, Worker, func

from app.jobs.registry import job_handlers, periodic_jobs

if TYPE_CHECKING:
    from app.config import Settings
    from app.context import AppContext

log = logging.getLogger(__name__)


def queue_name(prefix: str) -> str:
    return f"{prefix}:queue"


class ArqJobs:
    def __init__(self, redis_url: str, prefix: str) -> None:
        self._settings = RedisSettings.from_dsn(redis_url)
        self._queue = queue_name(prefix)
        self._prefix = prefix
        self._pool: ArqRedis | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(self._settings, default_queue_name=self._queue)
        return self._pool

    async def enqueue(self, name: str, *, key: str | None = None, delay_s: float = 0.0, **kwargs: Any) -> None:
        redis = await self._redis()
        job_id = f"{self._prefix}:{key}" if key else None
        await redis.enqueue_job(
            name, _job_id=job_id, _queue_name=self._queue,
            _defer_by=timedelta(seconds=delay_s) if delay_s else None, **kwargs,
        )

    async def start(self, ctx: AppContext) -> None:
        await self._redis()

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def ping(self) -> None:
        redis = await self._redis()
        await redis.ping()


def _wrap(name: str) -> Function:
    async def run(arq_ctx: dict[str, Any], **kwargs: Any) -> None:
        await arq_ctx["handlers"][name](arq_ctx["app"], kwargs)

    run.__qualname__ = run.__name__ = name.replace(".", "_")
    # keep_result=0: a finished job's id can be reused, so `key` dedupes only waiting jobs.
    return func(run, name=name, keep_result=0, max_tries=5)  # type: ignore[arg-type]


def build_worker(settings: Settings, *, burst: bool = False) -> Worker:
    from app.context import build_context

    assert settings.redis_url, "invoicing worker needs REDIS_URL"
    handlers = job_handlers()

    async def startup(arq_ctx: dict[str, Any]) -> None:
        arq_ctx["app"] = await build_context(settings, role="worker")
        arq_ctx["handlers"] = handlers
        if settings.metrics_port:  # a worker has no HTTP app: its counters get their own /metrics
            arq_ctx["app"].metrics.serve(settings.metrics_port)
        await arq_ctx["app"].recover()

    async def shutdown(arq_ctx: dict[str, Any]) -> None:
        app: AppContext | None = arq_ctx.get("app")
        if app is not None:
            await app.aclose()

    crons = []
    for name, interval in periodic_jobs(settings):
        seconds = set(range(0, 60, max(1, int(interval)))) if interval < 60 else {0}
        minutes = None if interval < 60 else set(range(0, 60, max(1, int(interval // 60))))
        # The prefix is in the name because arq derives the unique job id from it: without it two
        # deployments sharing one Redis would swallow each other's periodic jobs.
        cron_name = f"cron:{settings.redis_key_prefix}:{name}"
        crons.append(cron(_wrap(name).coroutine, name=cron_name, second=seconds, minute=minutes,
                          unique=True, run_at_startup=False))
    return Worker(
        functions=[_wrap(n) for n in handlers],
        cron_jobs=crons,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        queue_name=queue_name(settings.redis_key_prefix),
        on_startup=startup,  # type: ignore[arg-type]
        on_shutdown=shutdown,  # type: ignore[arg-type]
        burst=burst,
        max_jobs=8,
        job_timeout=3600,
        handle_signals=True,
        allow_abort_jobs=False,
    )


def run_worker(settings: Settings) -> None:
    # arq's Worker binds to the event loop current at construction; run() drives that loop.
    asyncio.set_event_loop(asyncio.new_event_loop())
    build_worker(settings).run()

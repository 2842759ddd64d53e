"""The one `AppContext`: every client, built once at start-up and passed down."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from app.config import Settings
from app.jobs.base import Jobs
from app.metrics import Metrics
from app.secrets_box import SecretBox, load_or_create_app_secret
from app.store import Store
from app.stripe.clients import StripeGateways

if TYPE_CHECKING:
    from app.crm.protocol import CRM

log = logging.getLogger(__name__)


class KeyedLocks:
    """asyncio locks by name, for work that must not overlap inside this process."""

    def __init__(self) -> None:
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks[key]
        async with lock:
            yield
        if not lock.locked() and not lock._waiters:
            self._locks.pop(key, None)


@dataclass
class AppContext:
    settings: Settings
    store: Store
    box: SecretBox
    stripe: StripeGateways
    jobs: Jobs
    http: httpx.AsyncClient
    metrics: Metrics
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    role: str = "server"
    # Short-lived caches owned by one capability each, keyed by the owning module's name
    # (e.g. the create-invoice catalog); built lazily by that module.
    caches: dict[str, Any] = field(default_factory=dict)

    def crm(self, workspace_id: str) -> CRM:
        from app.crm.factory import crm_for_workspace

        return crm_for_workspace(self, workspace_id)

    async def recover(self) -> None:
        """Re-enqueue work the store says is unfinished (after a crash or restart)."""
        from app.jobs.recovery import recover_unfinished

        await recover_unfinished(self)

    async def aclose(self) -> None:
        await self.jobs.stop()
        await self.http.aclose()
        await self.stripe.aclose()
        await self.store.dispose()


def _make_jobs(settings: Settings) -> Jobs:
    if settings.redis_url:
        from app.jobs.arq_queue import ArqJobs

        return ArqJobs(settings.redis_url, settings.redis_key_prefix)
    from app.jobs.inprocess import InProcessJobs

    return InProcessJobs()


async def build_context(
    settings: Settings,
    *,
    role: Literal["server", "worker", "cli"] = "server",
    jobs: Jobs | None = None,
) -> AppContext:
    secret = settings.app_secret.get_secret_value() if settings.app_secret else load_or_create_app_secret(settings.data_dir)
    store = Store(settings.database_url)
    await store.create_schema()
    metrics = Metrics()
    ctx = AppContext(
        settings=settings,
        store=store,
        box=SecretBox(secret),
        stripe=StripeGateways(
            api_base=settings.stripe_api_base,
            max_network_retries=settings.stripe_max_network_retries,
            rate_sandbox=settings.stripe_rate_sandbox,
            rate_live=settings.stripe_rate_live,
            observer=metrics.observe_stripe_call,
        ),
        jobs=jobs if jobs is not None else _make_jobs(settings),
        http=httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0)),
        metrics=metrics,
        role=role,
    )
    return ctx

"""The catalog cache: fresh for its TTL, one Stripe read when cold however many callers race."""

from __future__ import annotations

import asyncio

from app.invoicing.catalog import CatalogCache, active_prices, catalog_cache
from tests.invoicing.conftest import Billing


def test_entries_expire_after_the_ttl() -> None:
    now = [100.0]
    cache = CatalogCache(ttl_s=60, clock=lambda: now[0])
    assert cache.fresh("ws") is None
    cache.put("ws", ())
    now[0] += 59
    assert cache.fresh("ws") == ()
    now[0] += 2
    assert cache.fresh("ws") is None


async def test_concurrent_cold_reads_make_one_prices_list(billing: Billing) -> None:
    gateway = billing.ctx.stripe.for_key(billing.key)
    catalog_cache(billing.ctx).invalidate()
    mark = billing.mark()
    results = await asyncio.gather(*(active_prices(billing.ctx, billing.ws, gateway) for _ in range(20)))
    assert billing.calls_since(mark) == ["GET /v1/prices"]
    assert all(r == results[0] for r in results)
    ids = {p.price_id for p in results[0]}
    assert billing.seed.one_time_usd in ids and billing.seed.recurring_usd in ids
    assert billing.seed.archived_usd not in ids  # inactive prices are not listed
    await active_prices(billing.ctx, billing.ws, gateway)
    assert billing.calls_since(mark) == ["GET /v1/prices"]

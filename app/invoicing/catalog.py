"""The workspace's active Stripe prices, cached briefly so an invoice costs no catalog read when
the cache is warm (and exactly one `prices.list` when it is cold, however many requests race)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.money import format_amount

if TYPE_CHECKING:
    from app.context import AppContext
    from app.stripe.gateway import StripeGateway

CACHE_NAME = "invoicing.catalog"
CATALOG_TTL_S = 60.0


@dataclass(frozen=True)
class CatalogPrice:
    price_id: str
    product_name: str
    unit_amount: int | None  # None: tiered or customer-chosen amounts, which we cannot invoice
    currency: str
    recurring: bool
    interval: str | None
    active: bool

    @property
    def invoiceable(self) -> bool:
        """Only active, one-time, fixed-amount prices can go on an invoice as they are."""
        return self.active and not self.recurring and self.unit_amount is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "price_id": self.price_id,
            "product_name": self.product_name,
            "unit_amount": self.unit_amount,
            "currency": self.currency,
            "recurring": self.recurring,
            "interval": self.interval,
            "invoiceable": self.invoiceable,
            "display": format_amount(self.unit_amount, self.currency) if self.unit_amount is not None else "",
        }


def price_from_stripe(price: dict[str, Any]) -> CatalogPrice:
    product = price.get("product")
    if isinstance(product, dict):
        name = str(product.get("name") or product.get("id") or "")
        product_active = bool(product.get("active", True)) and not product.get("deleted")
    else:
        name, product_active = str(product or ""), True
    recurring = price.get("recurring")
    amount = price.get("unit_amount")
    nickname = price.get("nickname")
    return CatalogPrice(
        price_id=str(price["id"]),
        product_name=f"{name} ({nickname})" if nickname else name,
        unit_amount=amount if isinstance(amount, int) else None,
        currency=str(price.get("currency", "")).lower(),
        recurring=bool(recurring),
        interval=recurring.get("interval") if isinstance(recurring, dict) else None,
        active=bool(price.get("active")) and product_active,
    )


@dataclass(frozen=True)
class _Entry:
    fetched_at: float
    prices: tuple[CatalogPrice, ...]


class CatalogCache:
    """Active prices per workspace for `ttl_s` seconds; one load at a time per workspace."""

    def __init__(self, ttl_s: float = CATALOG_TTL_S, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def fresh(self, workspace_id: str) -> tuple[CatalogPrice, ...] | None:
        entry = self._entries.get(workspace_id)
        if entry is None or self._clock() - entry.fetched_at > self._ttl:
            return None
        return entry.prices

    def put(self, workspace_id: str, prices: tuple[CatalogPrice, ...]) -> None:
        self._entries[workspace_id] = _Entry(self._clock(), prices)

    def invalidate(self, workspace_id: str | None = None) -> None:
        if workspace_id is None:
            self._entries.clear()
        else:
            self._entries.pop(workspace_id, None)


def catalog_cache(ctx: AppContext) -> CatalogCache:
    cache = ctx.caches.get(CACHE_NAME)
    if not isinstance(cache, CatalogCache):
        cache = ctx.caches[CACHE_NAME] = CatalogCache()
    return cache


async def active_prices(ctx: AppContext, workspace_id: str, gateway: StripeGateway) -> tuple[CatalogPrice, ...]:
    """The cached catalog, loading it (one `prices.list`, products expanded) when cold."""
    cache = catalog_cache(ctx)
    found = cache.fresh(workspace_id)
    if found is not None:
        return found
    async with ctx.locks.hold(f"catalog:{workspace_id}"):
        found = cache.fresh(workspace_id)  # loaded by whoever held the lock before us
        if found is not None:
            return found
        prices = tuple(price_from_stripe(p) for p in await gateway.list_active_prices(limit=100))
        cache.put(workspace_id, prices)
        return prices

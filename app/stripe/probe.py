"""Which of the permissions the app needs does a Stripe key have?

Stripe has no introspection endpoint for restricted keys, so we ask it directly, creating nothing:
- read access: `list(limit=1)` on each resource (a read; nothing changes);
- write access: an *update of an object that cannot exist* (`POST /v1/customers/cus_invoicingprobe…`).
  Stripe checks the key's permission for the endpoint before it looks the object up, so a key with
  write access gets 404 `resource_missing` and one without gets 403; either way nothing is created
  or changed, because there is no such object to change.
A 401 means the key itself is bad or revoked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.errors import AppError, ErrorCode
from app.stripe.gateway import StripeGateway

PROBE_SUFFIX = "invoicingprobe0000000000"


@dataclass(frozen=True)
class Permission:
    resource: str  # Stripe dashboard name
    level: str  # "read" | "write"
    breaks: str  # what stops working without it

    @property
    def scope(self) -> str:
        return f"{self.resource}: {self.level}"


REQUIRED: tuple[Permission, ...] = (
    Permission("Customers", "read", "Create Invoice cannot find existing customers by email."),
    Permission("Customers", "write", "Create Invoice cannot create customers or keep their names in step."),
    Permission("Products", "read", "The catalog picker cannot show product names."),
    Permission("Prices", "read", "The catalog picker is empty; only custom lines can be invoiced."),
    Permission("Invoices", "read", "Sync and backfill cannot read invoices."),
    Permission("Invoices", "write", "Invoices cannot be created, finalized, sent, paid or voided."),
    Permission("Invoice items", "read", "Invoice lines cannot be read back."),
    Permission("Webhook endpoints", "read", "Webhook health cannot be checked."),
    Permission("Webhook endpoints", "write", "The webhook cannot be registered: no real-time sync or triggers."),
    Permission("Events", "read", "Reconcile cannot repair missed webhooks."),
)

RECOMMENDED_SCOPES: tuple[str, ...] = tuple(p.scope for p in REQUIRED)


def _checks(gw: StripeGateway) -> dict[str, Callable[[], Awaitable[Any]]]:
    v1 = gw.v1
    probe = {"metadata": {"invoicing_probe": "1"}}
    return {
        "Customers: read": lambda: v1.customers.list_async(params={"limit": 1}),
        "Customers: write": lambda: v1.customers.update_async(f"cus_{PROBE_SUFFIX}", params=probe),
        "Products: read": lambda: v1.products.list_async(params={"limit": 1}),
        "Prices: read": lambda: v1.prices.list_async(params={"limit": 1}),
        "Invoices: read": lambda: v1.invoices.list_async(params={"limit": 1}),
        "Invoices: write": lambda: v1.invoices.update_async(f"in_{PROBE_SUFFIX}", params=probe),
        "Invoice items: read": lambda: v1.invoice_items.list_async(params={"limit": 1}),
        "Webhook endpoints: read": lambda: v1.webhook_endpoints.list_async(params={"limit": 1}),
        "Webhook endpoints: write": lambda: v1.webhook_endpoints.update_async(f"we_{PROBE_SUFFIX}", params=probe),
        "Events: read": lambda: v1.events.list_async(params={"limit": 1}),
    }


async def probe_permissions(gw: StripeGateway) -> list[str]:
    """The required scopes the key lacks, in `REQUIRED` order. Raises STRIPE_KEY_INVALID on 401."""
    checks = _checks(gw)

    async def has(scope: str) -> bool:
        try:
            await gw.call("probe", f"checking '{scope}'", checks[scope])
        except AppError as exc:
            if exc.code is ErrorCode.NOT_FOUND:  # write probe reached the lookup: permitted
                return True
            if exc.code is ErrorCode.STRIPE_PERMISSION:
                return False
            raise
        return True

    results = await asyncio.gather(*(has(p.scope) for p in REQUIRED))
    return [p.scope for p, ok in zip(REQUIRED, results, strict=True) if not ok]


def explain(missing: list[str]) -> list[dict[str, str]]:
    by_scope = {p.scope: p for p in REQUIRED}
    return [{"scope": s, "breaks": by_scope[s].breaks} for s in missing if s in by_scope]

"""Admin helpers over a whole account: bulk invoice creation (no events) and a state summary."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from app.sandbox.invoice_actions import assign_number, hosted_urls
from app.sandbox.models import Account, Customer, Invoice, LineItem, Price, Product
from app.sandbox.state import EmulatorState

BULK_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
DEFAULT_MIX = {"paid": 0.6, "open": 0.3, "void": 0.1}
MAX_BULK = 1_000_000
IDS_SHOWN = 1000


def status_sequence(count: int, statuses: Iterable[str] | Mapping[str, float] | None) -> list[str]:
    """A list cycles; a mapping of weights is spread evenly and deterministically."""
    if statuses is None:
        statuses = DEFAULT_MIX
    if isinstance(statuses, Mapping):
        weights = {s: float(w) for s, w in statuses.items() if float(w) > 0}
        names = list(weights)
    else:
        names = list(statuses)
        weights = {}
    if not names:
        raise ValueError("statuses must name at least one status")
    for name in names:
        if name not in BULK_STATUSES:
            raise ValueError(f"unknown invoice status {name!r}")
    if not weights:
        return [names[i % len(names)] for i in range(count)]
    total = sum(weights.values())
    exact = {s: count * w / total for s, w in weights.items()}
    counts = {s: int(v) for s, v in exact.items()}
    for s in sorted(exact, key=lambda s: exact[s] - counts[s], reverse=True)[: count - sum(counts.values())]:
        counts[s] += 1
    slots = sorted(
        ((k + 0.5) / n, order, s)
        for order, (s, n) in enumerate(counts.items())
        for k in range(n)
    )
    return [s for _, _, s in slots]


def create_bulk_invoices(
    state: EmulatorState,
    account: Account,
    count: int,
    *,
    customers: int = 1,
    statuses: Iterable[str] | Mapping[str, float] | None = None,
    currency: str = "usd",
    base_url: str | None = None,
) -> dict[str, Any]:
    """Finalized invoices (one line each) for `customers` new customers, emitting no events."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ~3 new objects per invoice and no cycles: collections only slow this down
    try:
        return _create(state, account, count, customers=customers, statuses=statuses,
                       currency=currency, base_url=base_url)
    finally:
        if gc_was_enabled:
            gc.enable()


def _create(
    state: EmulatorState,
    account: Account,
    count: int,
    *,
    customers: int,
    statuses: Iterable[str] | Mapping[str, float] | None,
    currency: str,
    base_url: str | None,
) -> dict[str, Any]:
    if not 1 <= count <= MAX_BULK:
        raise ValueError(f"count must be between 1 and {MAX_BULK}")
    if not 1 <= customers <= count:
        raise ValueError("customers must be between 1 and count")
    plan = status_sequence(count, statuses)
    base = (base_url or state.public_url or "http://127.0.0.1").rstrip("/")
    now = state.now()
    batch = state.new_code(6).lower()
    owners: list[Customer] = []
    for i in range(customers):
        customer = Customer(
            id=state.new_id("cus_", 14), created=account.customers.next_created(now),
            livemode=account.livemode, email=f"bulk-{batch}-{i}@example.com",
            name=f"Bulk customer {i}", invoice_prefix=state.new_code(), currency=currency,
        )
        account.customers.add(customer.id, customer, customer.created)
        owners.append(customer)
    product = Product(id=state.new_id("prod_", 14), created=account.products.next_created(now),
                      livemode=account.livemode, name="Bulk service", active=False, updated=now)
    account.products.add(product.id, product, product.created)
    price = Price(id=state.new_id("price_"), created=account.prices.next_created(now),
                  livemode=account.livemode, product=product.id, currency=currency,
                  unit_amount=1000, active=False)
    account.prices.add(price.id, price, price.created)

    created = account.invoices.next_created(now)
    first_id = last_id = ""
    for i, status in enumerate(plan):
        owner = owners[i % customers]
        quantity = 1 + i % 5
        invoice_id = state.new_id("in_")
        line = LineItem(
            id=state.new_id("il_"), invoice_item=state.new_id("ii_"), amount=1000 * quantity,
            currency=currency, quantity=quantity, unit_amount=1000, description=product.name,
            price=price.id, product=product.id, period_start=now, period_end=now,
        )
        invoice = Invoice(
            id=invoice_id, created=created, livemode=account.livemode, customer=owner.id,
            currency=currency, collection_method="send_invoice", status=status,
            due_date=now + 30 * 86_400, lines=[line], customer_email=owner.email,
            customer_name=owner.name,
        )
        if status != "draft":
            invoice.finalized_at = now
            invoice.number = assign_number(account)
            invoice.hosted_invoice_url, invoice.invoice_pdf = hosted_urls(base, invoice_id)
        if status == "paid":
            invoice.amount_paid = line.amount
            invoice.paid_at = now
            invoice.paid_out_of_band = True
        elif status == "void":
            invoice.voided_at = now
        elif status == "uncollectible":
            invoice.marked_uncollectible_at = now
        account.invoices.add(invoice_id, invoice, created)
        state.invoice_accounts[invoice_id] = account.id
        first_id = first_id or invoice_id
        last_id = invoice_id
    return {
        "account_id": account.id,
        "created": count,
        "by_status": dict(Counter(plan)),
        "customer_ids": [c.id for c in owners[:IDS_SHOWN]],
        "first_invoice_id": first_id,
        "last_invoice_id": last_id,
    }


def _ids(ids: list[str]) -> dict[str, Any]:
    return {"count": len(ids), "ids": ids[:IDS_SHOWN], "ids_truncated": len(ids) > IDS_SHOWN}


def account_summary(account: Account) -> dict[str, Any]:
    """Counts and ids (newest first, at most 1000 per list) of what the account holds."""
    by_status: dict[str, list[str]] = {s: [] for s in BULK_STATUSES}
    for invoice in account.invoices.newest_first():
        by_status[invoice.status].append(invoice.id)
    event_ids = [e.id for e in account.events.newest_first()]
    return {
        "account_id": account.id,
        "livemode": account.livemode,
        "customers": _ids([c.id for c in account.customers.newest_first()]),
        "products": _ids([p.id for p in account.products.newest_first()]),
        "prices": _ids([p.id for p in account.prices.newest_first()]),
        "invoices": {
            "count": len(account.invoices),
            "by_status": {status: _ids(ids) for status, ids in by_status.items()},
        },
        "invoiceitems": {"count": len(account.invoiceitems)},
        "webhook_endpoints": [
            {
                "id": e.id, "url": e.url, "enabled_events": list(e.enabled_events),
                "status": e.status, "api_version": e.api_version,
                "pending_events": len(account.webhook_queues.get(e.id, ())),
            }
            for e in account.webhook_endpoints.newest_first()
        ],
        "events": {
            **_ids(event_ids),
            "types": dict(Counter(e.type for e in account.events.values())),
        },
    }

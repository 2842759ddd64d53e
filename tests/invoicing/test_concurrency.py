"""Concurrent create-invoice requests for one new email make exactly one Stripe customer."""

from __future__ import annotations

import asyncio

import httpx

from app.context import build_context
from app.http.app import build_app
from app.jobs.inprocess import InProcessJobs
from tests.invoicing.conftest import ENDPOINT, Billing, custom, due


def body(billing: Billing, n: int) -> dict[str, object]:
    return {"object": "people", "record_id": billing.seed.lone_person, "line_items": [custom(f"Hour {n}")],
            "due_date": due(), "send_email": False}


async def test_fifty_concurrent_requests_make_one_customer(billing: Billing) -> None:
    mark = billing.mark()
    responses = await asyncio.gather(*(billing.create(body(billing, n)) for n in range(50)))
    assert [r.status_code for r in responses] == [201] * 50, [r.text for r in responses if r.status_code != 201]
    summary = billing.summary()
    assert summary["customers"]["count"] == 1
    assert summary["invoices"]["by_status"]["open"]["count"] == 50
    customer_ids = {r.json()["customer_id"] for r in responses}
    assert customer_ids == set(summary["customers"]["ids"])
    assert sum(r.json()["customer_created"] for r in responses) == 1
    assert billing.calls_since(mark).count("POST /v1/customers") == 1


async def test_two_processes_racing_still_make_one_customer(billing: Billing) -> None:
    """A second AppContext has its own locks (another process): the idempotency key from
    workspace + email is what keeps Stripe to one customer then."""
    other_ctx = await build_context(billing.ctx.settings, jobs=InProcessJobs(periodic=False))
    try:
        app = build_app(other_ctx, manage_context=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
            sends = [billing.create(body(billing, n)) for n in range(10)]
            sends += [other.post(ENDPOINT, json=body(billing, n), headers=billing.headers) for n in range(10)]
            responses = await asyncio.gather(*sends)
    finally:
        await other_ctx.aclose()
    assert [r.status_code for r in responses] == [201] * 20
    assert billing.summary()["customers"]["count"] == 1
    assert len({r.json()["customer_id"] for r in responses}) == 1

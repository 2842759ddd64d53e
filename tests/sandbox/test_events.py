# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Events: one per change, snapshots, previous_attributes, paging and filters."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import stripe

from app.sandbox.server import RunningEmulator

FIXTURES = Path(__file__).parents[2] / "app" / "sandbox" / "fixtures"


async def _paid_invoice_history(client: stripe.StripeClient) -> str:
    customer = await client.v1.customers.create_async(params={"email": "ev@example.com"})
    await client.v1.customers.update_async(customer.id, params={"name": "Eve"})
    invoice = await client.v1.invoices.create_async(params={
        "customer": customer.id, "collection_method": "send_invoice", "days_until_due": 10})
    await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
        {"price_data": {"currency": "usd", "unit_amount": 1200,
                        "product_data": {"name": "Plan"}}}]})
    await client.v1.invoices.finalize_invoice_async(invoice.id)
    await client.v1.invoices.send_invoice_async(invoice.id)
    await client.v1.invoices.pay_async(invoice.id)
    return invoice.id


async def test_one_event_per_change_with_snapshots(client: stripe.StripeClient) -> None:
    invoice_id = await _paid_invoice_history(client)
    events = await client.v1.events.list_async(params={"limit": 100})
    assert [e.type for e in events.data] == [
        "invoice.payment_succeeded", "invoice.paid", "invoice.sent", "invoice.finalized",
        "invoice.updated", "invoice.created", "customer.updated", "customer.created",
    ]
    created = [e.created for e in events.data]
    assert created == sorted(created, reverse=True)
    by_type = {e.type: e for e in events.data}
    assert by_type["invoice.created"].data.object.status == "draft"
    assert by_type["invoice.created"].data.object.total == 0
    assert by_type["invoice.finalized"].data.object.status == "open"
    assert by_type["invoice.paid"].data.object.amount_paid == 1200
    updated = by_type["invoice.updated"].data
    assert updated.previous_attributes.total == 0 and updated.object.total == 1200
    assert by_type["customer.updated"].data.previous_attributes.to_dict() == {"name": None}
    assert "previous_attributes" not in by_type["invoice.paid"].data.to_dict()

    event = await client.v1.events.retrieve_async(by_type["invoice.sent"].id)
    assert event.data.object.id == invoice_id
    assert event.api_version == "2026-10-28.endive"
    assert event.request.id.startswith("req_") and event.request.idempotency_key
    fixture_keys = set(json.loads((FIXTURES / "event.json").read_text()))
    assert fixture_keys <= set(event.to_dict())


async def test_paging_type_filters_and_created(client: stripe.StripeClient) -> None:
    for i in range(25):
        await client.v1.customers.create_async(params={"email": f"p{i}@example.com"})
    everything = [e.id async for e in (await client.v1.events.list_async(
        params={"limit": 10})).auto_paging_iter()]
    assert len(everything) == 25 and len(set(everything)) == 25
    page = await client.v1.events.list_async(params={"limit": 10, "starting_after": everything[9]})
    assert [e.id for e in page.data] == everything[10:20] and page.has_more
    back = await client.v1.events.list_async(params={"limit": 10, "ending_before": everything[20]})
    assert [e.id for e in back.data] == everything[10:20]

    await client.v1.products.create_async(params={"name": "Thing"})
    only = await client.v1.events.list_async(params={"type": "product.created"})
    assert [e.type for e in only.data] == ["product.created"]
    wildcard = await client.v1.events.list_async(params={"type": "customer.*", "limit": 100})
    assert len(wildcard.data) == 25
    several = await client.v1.events.list_async(
        params={"types": ["product.created", "customer.created"], "limit": 100})
    assert len(several.data) == 26

    newest = only.data[0].created
    assert (await client.v1.events.list_async(params={"created": {"gt": newest}})).data == []
    recent = await client.v1.events.list_async(
        params={"created": {"gte": int(time.time()) - 300}, "limit": 100})
    assert len(recent.data) == 26


async def test_event_order_is_stable_within_a_second(emulator: RunningEmulator,
                                                     account: tuple[str, str],
                                                     admin: httpx.AsyncClient) -> None:
    _, key = account
    headers = {"Authorization": f"Bearer {key}"}
    for i in range(30):
        await admin.post("/v1/customers", data={"email": f"s{i}@example.com"}, headers=headers)
    body = (await admin.get("/v1/events?limit=100", headers=headers)).json()
    emails = [e["data"]["object"]["email"] for e in body["data"]]
    assert emails == [f"s{i}@example.com" for i in reversed(range(30))]
    again = (await admin.get("/v1/events?limit=100", headers=headers)).json()
    assert [e["id"] for e in again["data"]] == [e["id"] for e in body["data"]]


async def test_unknown_event(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.events.retrieve_async("evt_nope")
    assert error.value.http_status == 404

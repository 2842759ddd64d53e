# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""The `/_emulator` control API: accounts, request log, state, payment failures, bulk invoices."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import httpx
import stripe

from app.sandbox.bulk import status_sequence
from app.sandbox.server import RunningEmulator

ClientFactory = Callable[..., stripe.StripeClient]


async def test_accounts_and_request_log(admin: httpx.AsyncClient,
                                        make_client: ClientFactory) -> None:
    created = (await admin.post("/_emulator/accounts", json={})).json()
    assert created["account_id"].startswith("acct_")
    assert created["secret_key"].startswith("sk_test_") and created["livemode"] is False
    client = make_client(created["secret_key"])
    customer = await client.v1.customers.create_async(
        params={"email": "log@example.com"}, options={"idempotency_key": "log-1"})
    await client.v1.customers.retrieve_async(customer.id)

    query = {"account_id": created["account_id"]}
    log = (await admin.get("/_emulator/requests", params=query)).json()
    assert log["count"] == 2
    first = log["data"][0]
    assert (first["method"], first["path"], first["status"]) == ("POST", "/v1/customers", 200)
    assert first["idempotency_key"] == "log-1" and first["idempotent_replayed"] is False
    assert abs(first["time"] - time.time()) < 60
    assert log["data"][1]["path"] == f"/v1/customers/{customer.id}"

    assert (await admin.delete("/_emulator/requests", params=query)).status_code == 200
    assert (await admin.get("/_emulator/requests", params=query)).json()["count"] == 0


async def test_state_summary_and_payment_failed(emulator: RunningEmulator,
                                                account: tuple[str, str],
                                                client: stripe.StripeClient,
                                                admin: httpx.AsyncClient) -> None:
    account_id, _ = account
    customer = await client.v1.customers.create_async(params={"email": "s@example.com"})
    invoice = await client.v1.invoices.create_async(params={
        "customer": customer.id, "collection_method": "charge_automatically"})
    await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
        {"price_data": {"currency": "usd", "unit_amount": 300, "product_data": {"name": "A"}}}]})
    await client.v1.invoices.finalize_invoice_async(invoice.id)
    endpoint = await client.v1.webhook_endpoints.create_async(params={
        "url": "https://example.com/hook", "enabled_events": ["invoice.payment_failed"]})

    failed = await admin.post(f"/_emulator/invoices/{invoice.id}/payment_failed")
    assert failed.status_code == 200
    assert failed.json()["attempt_count"] == 1 and failed.json()["status"] == "open"
    latest = await client.v1.events.list_async(params={"limit": 1})
    assert latest.data[0].type == "invoice.payment_failed"
    assert latest.data[0].data.object.attempt_count == 1
    assert (await admin.post("/_emulator/invoices/in_nope/payment_failed")).status_code == 404

    summary = (await admin.get("/_emulator/state", params={"account_id": account_id})).json()
    assert summary["customers"]["ids"] == [customer.id]
    assert summary["invoices"]["count"] == 1
    assert summary["invoices"]["by_status"]["open"]["ids"] == [invoice.id]
    assert summary["webhook_endpoints"][0]["id"] == endpoint.id
    assert summary["webhook_endpoints"][0]["enabled_events"] == ["invoice.payment_failed"]
    assert summary["events"]["types"]["invoice.payment_failed"] == 1
    assert (await admin.get("/_emulator/state", params={"account_id": "acct_x"})).status_code == 404

    await client.v1.invoices.pay_async(invoice.id)
    refused = await admin.post(f"/_emulator/invoices/{invoice.id}/payment_failed")
    assert refused.status_code == 400


def test_status_mix_is_exact_and_spread() -> None:
    plan = status_sequence(1000, {"paid": 0.5, "open": 0.3, "void": 0.2})
    assert Counter(plan) == {"paid": 500, "open": 300, "void": 200}
    assert Counter(plan[:100]) == {"paid": 50, "open": 30, "void": 20}
    assert status_sequence(5, ["open", "paid"]) == ["open", "paid", "open", "paid", "open"]


async def test_bulk_invoices_page_through_1000(emulator: RunningEmulator,
                                               account: tuple[str, str],
                                               client: stripe.StripeClient,
                                               admin: httpx.AsyncClient) -> None:
    account_id, _ = account
    response = await admin.post("/_emulator/bulk_invoices", json={
        "account_id": account_id, "count": 1000, "customers": 40,
        "statuses": {"paid": 0.6, "open": 0.3, "void": 0.1}})
    assert response.status_code == 200
    result = response.json()
    assert result["created"] == 1000
    assert result["by_status"] == {"paid": 600, "open": 300, "void": 100}
    assert len(result["customer_ids"]) == 40

    await admin.delete("/_emulator/requests", params={"account_id": account_id})
    seen: list[str] = []
    statuses: Counter[str] = Counter()
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 100}
        if cursor:
            params["starting_after"] = cursor
        page = await client.v1.invoices.list_async(params=params)
        seen += [i.id for i in page.data]
        statuses.update(i.status for i in page.data)
        if not page.has_more:
            break
        cursor = page.data[-1].id
    assert len(seen) == len(set(seen)) == 1000
    assert seen[0] == result["last_invoice_id"] and seen[-1] == result["first_invoice_id"]
    assert statuses == {"paid": 600, "open": 300, "void": 100}
    log = (await admin.get("/_emulator/requests", params={"account_id": account_id})).json()
    assert log["count"] == 10

    invoice = await client.v1.invoices.retrieve_async(seen[0])
    assert invoice.number and invoice.hosted_invoice_url.startswith(emulator.base_url)
    assert invoice.amount_due == invoice.lines.data[0].amount
    voids = await client.v1.invoices.list_async(params={"status": "void", "limit": 100})
    assert len(voids.data) == 100 and not voids.has_more
    one_customer = await client.v1.invoices.list_async(
        params={"customer": result["customer_ids"][0], "limit": 100})
    assert len(one_customer.data) == 25
    assert (await client.v1.events.list_async()).data == []  # bulk creation emits nothing


async def test_bulk_is_fast(emulator: RunningEmulator) -> None:
    account_id, _ = emulator.new_account()
    started = time.perf_counter()
    emulator.state.bulk_invoices(account_id, 20_000, customers=100)
    assert time.perf_counter() - started < 5
    page = emulator.state.account(account_id).invoices.page(limit=100, starting_after=None)
    assert len(page.items) == 100 and page.has_more

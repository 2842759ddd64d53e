# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Webhook endpoints and signed delivery to a real receiver on another loopback port."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sandbox.server import RunningEmulator, running_server
from app.sandbox.state import DeliveryAttempt

WaitFor = Callable[..., Awaitable[Any]]


@dataclass
class Receiver:
    """Records every delivery per hook name and answers from a per-name script of statuses."""

    base_url: str = ""
    received: dict[str, list[tuple[bytes, str]]] = field(default_factory=dict)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"{self.base_url}/hooks/{name}"

    def bodies(self, name: str) -> list[tuple[bytes, str]]:
        with self.lock:
            return list(self.received.get(name, []))

    async def endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        with self.lock:
            self.received.setdefault(name, []).append(
                (body, request.headers.get("stripe-signature", "")))
            script = self.scripts.get(name) or [200]
            status = script.pop(0) if len(script) > 1 else script[0]
        assert request.headers["content-type"] == "application/json; charset=utf-8"
        return Response(status_code=status)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    recorder = Receiver()
    app = Starlette(routes=[Route("/hooks/{name}", recorder.endpoint, methods=["POST"])])
    with running_server(app) as server:
        recorder.base_url = server.base_url
        yield recorder


async def _endpoint(client: stripe.StripeClient, url: str, events: list[str]) -> Any:
    return await client.v1.webhook_endpoints.create_async(params={
        "url": url, "enabled_events": events, "api_version": "2026-10-28.endive",
        "description": "test endpoint"})


def _verified(received: list[tuple[bytes, str]], secret: str) -> list[stripe.Event]:
    return [stripe.Webhook.construct_event(body, signature, secret)
            for body, signature in received]


async def test_endpoint_crud(client: stripe.StripeClient) -> None:
    created = await _endpoint(client, "https://example.com/hook", ["invoice.paid"])
    assert created.id.startswith("we_") and created.secret.startswith("whsec_")
    assert (created.status, created.api_version) == ("enabled", "2026-10-28.endive")
    fetched = await client.v1.webhook_endpoints.retrieve_async(created.id)
    assert "secret" not in fetched.to_dict()
    updated = await client.v1.webhook_endpoints.update_async(created.id, params={
        "enabled_events": ["*"], "disabled": True})
    assert (updated.enabled_events, updated.status) == (["*"], "disabled")
    listed = await client.v1.webhook_endpoints.list_async()
    assert [e.id for e in listed.data] == [created.id]
    deleted = await client.v1.webhook_endpoints.delete_async(created.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.webhook_endpoints.retrieve_async(created.id)
    with pytest.raises(stripe.InvalidRequestError) as error:
        await _endpoint(client, "not a url", ["invoice.paid"])
    assert error.value.param == "url"


async def test_signed_delivery_in_order(client: stripe.StripeClient, receiver: Receiver,
                                        wait_for: WaitFor) -> None:
    endpoint = await _endpoint(client, receiver.url("ordered"),
                               ["customer.created", "invoice.finalized", "invoice.paid"])
    customer = await client.v1.customers.create_async(params={"email": "hook@example.com"})
    invoice = await client.v1.invoices.create_async(params={
        "customer": customer.id, "collection_method": "send_invoice", "days_until_due": 5})
    await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
        {"price_data": {"currency": "usd", "unit_amount": 999, "product_data": {"name": "P"}}}]})
    await client.v1.invoices.finalize_invoice_async(invoice.id)
    await client.v1.invoices.pay_async(invoice.id, params={"paid_out_of_band": True})

    received = await wait_for(lambda: len(receiver.bodies("ordered")) >= 3 and receiver.bodies("ordered"))
    events = _verified(received, endpoint.secret)
    assert [e.type for e in events] == ["customer.created", "invoice.finalized", "invoice.paid"]
    assert events[2].data.object.status == "paid" and events[2].data.object.id == invoice.id
    assert events[1].api_version == "2026-10-28.endive"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(received[0][0], received[0][1], "whsec_wrong")
    await asyncio.sleep(0.1)
    assert len(receiver.bodies("ordered")) == 3  # invoice.created/updated were not enabled
    listed = await client.v1.events.list_async(params={"type": "invoice.paid"})
    assert listed.data[0].pending_webhooks == 0


async def test_retry_after_500_keeps_order(emulator: RunningEmulator, account: tuple[str, str],
                                           client: stripe.StripeClient, receiver: Receiver,
                                           wait_for: WaitFor) -> None:
    account_id, _ = account
    receiver.scripts["flaky"] = [500, 200]
    endpoint = await _endpoint(client, receiver.url("flaky"), ["customer.created"])
    first = await client.v1.customers.create_async(params={"email": "one@example.com"})
    second = await client.v1.customers.create_async(params={"email": "two@example.com"})

    await wait_for(lambda: len(emulator.state.delivery_attempts(account_id)) >= 3)
    events = _verified(receiver.bodies("flaky"), endpoint.secret)
    assert [e.data.object.id for e in events] == [first.id, first.id, second.id]
    assert events[0].id == events[1].id  # the retry resends the same event
    attempts = [(a.event_id, a.attempt, a.status_code, a.succeeded, a.final)
                for a in emulator.state.delivery_attempts(account_id)]
    assert attempts == [
        (events[0].id, 1, 500, False, False),
        (events[0].id, 2, 200, True, True),
        (events[2].id, 1, 200, True, True),
    ]


async def test_gives_up_after_the_last_retry(emulator: RunningEmulator,
                                             account: tuple[str, str],
                                             client: stripe.StripeClient, receiver: Receiver,
                                             admin: httpx.AsyncClient,
                                             wait_for: WaitFor) -> None:
    account_id, _ = account
    receiver.scripts["down"] = [503, 503, 503, 200]
    await _endpoint(client, receiver.url("down"), ["customer.created"])
    await client.v1.customers.create_async(params={"email": "lost@example.com"})
    await client.v1.customers.create_async(params={"email": "kept@example.com"})

    def done() -> list[DeliveryAttempt]:
        attempts = emulator.state.delivery_attempts(account_id)
        return attempts if len(attempts) >= 4 else []

    attempts = await wait_for(done)
    assert [(a.attempt, a.status_code, a.final) for a in attempts] == [
        (1, 503, False), (2, 503, False), (3, 503, True), (1, 200, True)]
    body = (await admin.get("/_emulator/deliveries", params={"account_id": account_id})).json()
    assert body["count"] == 4 and body["data"][2]["final"] is True


async def test_connection_errors_are_retried(emulator: RunningEmulator,
                                             account: tuple[str, str],
                                             client: stripe.StripeClient,
                                             wait_for: WaitFor) -> None:
    account_id, _ = account
    with running_server(Starlette()) as gone:
        dead_url = f"{gone.base_url}/nowhere"
    await _endpoint(client, dead_url, ["customer.created"])
    await client.v1.customers.create_async(params={"email": "void@example.com"})
    attempts = await wait_for(lambda: [a for a in emulator.state.delivery_attempts(account_id)
                                       if a.final])
    assert attempts[0].status_code is None and attempts[0].error
    assert len(emulator.state.delivery_attempts(account_id)) == 3


async def test_pause_keeps_events_until_resume(emulator: RunningEmulator,
                                               client: stripe.StripeClient,
                                               receiver: Receiver, admin: httpx.AsyncClient,
                                               wait_for: WaitFor) -> None:
    endpoint = await _endpoint(client, receiver.url("paused"), ["customer.created"])
    response = await admin.put("/_emulator/webhooks", json={"paused": True})
    assert response.json() == {"paused": True}
    try:
        for i in range(3):
            await client.v1.customers.create_async(params={"email": f"p{i}@example.com"})
        await asyncio.sleep(0.15)
        assert receiver.bodies("paused") == []
    finally:
        await admin.put("/_emulator/webhooks", json={"paused": False})
    received = await wait_for(lambda: len(receiver.bodies("paused")) >= 3 and receiver.bodies("paused"))
    emails = [e.data.object.email for e in _verified(received, endpoint.secret)]
    assert emails == ["p0@example.com", "p1@example.com", "p2@example.com"]

# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Idempotency keys: replay, conflict, concurrency; results of failed validation are not kept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import stripe

from app.sandbox.server import RunningEmulator

ClientFactory = Callable[..., stripe.StripeClient]


async def test_same_key_same_params_replays(emulator: RunningEmulator, account: tuple[str, str],
                                            client: stripe.StripeClient) -> None:
    account_id, _ = account
    params = {"email": "idem@example.com", "metadata": {"ws": "w1"}}
    options = {"idempotency_key": "ws1:customer:idem@example.com"}
    first = await client.v1.customers.create_async(params=params, options=options)
    second = await client.v1.customers.create_async(params=params, options=options)
    assert first.id == second.id
    assert second.last_response is not None
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"
    assert first.last_response is not None
    assert first.last_response.headers.get("Idempotent-Replayed") is None

    assert emulator.state.summary(account_id)["customers"]["count"] == 1
    log = emulator.state.requests(account_id)
    assert [(e.path, e.idempotent_replayed) for e in log] == [
        ("/v1/customers", False), ("/v1/customers", True)
    ]
    events = await client.v1.events.list_async(params={"type": "customer.created"})
    assert len(events.data) == 1
    assert events.data[0].request.idempotency_key == "ws1:customer:idem@example.com"


async def test_same_key_different_params_is_an_error(client: stripe.StripeClient) -> None:
    options = {"idempotency_key": "conflicting"}
    await client.v1.customers.create_async(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as error:
        await client.v1.customers.create_async(params={"email": "b@example.com"}, options=options)
    assert error.value.http_status == 400
    assert "can only be used with the same parameters" in str(error.value.user_message)
    assert error.value.json_body["error"]["type"] == "idempotency_error"


async def test_concurrent_requests_with_one_key_create_one_object(
    emulator: RunningEmulator, account: tuple[str, str], make_client: ClientFactory
) -> None:
    account_id, key = account
    clients = [make_client(key) for _ in range(5)]
    calls = [
        c.v1.customers.create_async(params={"email": "race@example.com"},
                                    options={"idempotency_key": "race-key"})
        for c in clients for _ in range(10)
    ]
    results = await asyncio.gather(*calls)
    assert len({r.id for r in results}) == 1
    assert emulator.state.summary(account_id)["customers"]["count"] == 1
    replays = [e.idempotent_replayed for e in emulator.state.requests(account_id)]
    assert replays.count(False) == 1 and replays.count(True) == 49


async def test_keys_are_per_account(emulator: RunningEmulator, make_client: ClientFactory) -> None:
    (_, key_a), (_, key_b) = emulator.new_account(), emulator.new_account()
    options = {"idempotency_key": "shared-key"}
    a = await make_client(key_a).v1.customers.create_async(
        params={"email": "x@example.com"}, options=options)
    b = await make_client(key_b).v1.customers.create_async(
        params={"email": "x@example.com"}, options=options)
    assert a.id != b.id


async def test_validation_failures_are_not_stored(client: stripe.StripeClient) -> None:
    options = {"idempotency_key": "retry-after-fix"}
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.invoices.create_async(params={}, options=options)
    with pytest.raises(stripe.InvalidRequestError) as error:
        # a state error *is* stored and replayed, as on Stripe
        await client.v1.invoices.create_async(params={"customer": "cus_gone"}, options=options)
    assert error.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as replayed:
        await client.v1.invoices.create_async(params={"customer": "cus_gone"}, options=options)
    assert replayed.value.headers is not None
    assert replayed.value.headers.get("Idempotent-Replayed") == "true"

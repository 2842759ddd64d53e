# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Fault injection and rate limiting: typed SDK errors, and nothing half-applied."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
import stripe

from app.sandbox.faults import FaultConfig
from app.sandbox.server import RunningEmulator

ClientFactory = Callable[..., stripe.StripeClient]


async def test_429_and_500_map_to_sdk_errors(emulator: RunningEmulator, account: tuple[str, str],
                                             client: stripe.StripeClient,
                                             admin: httpx.AsyncClient) -> None:
    account_id, _ = account
    response = await admin.put("/_emulator/faults", json={
        "rate_429": 1.0, "account_id": account_id, "path_regex": "^/v1/customers"})
    assert response.status_code == 200
    try:
        with pytest.raises(stripe.RateLimitError) as limited:
            await client.v1.customers.create_async(params={"email": "x@example.com"})
        assert limited.value.http_status == 429
        assert limited.value.json_body["error"]["code"] == "rate_limit"
        # other paths are untouched
        assert (await client.v1.products.list_async()).data == []

        await admin.put("/_emulator/faults", json={"rate_500": 1.0, "account_id": account_id,
                                                   "method": "post"})
        with pytest.raises(stripe.APIError) as failed:
            await client.v1.customers.create_async(params={"email": "x@example.com"})
        assert failed.value.http_status == 500
        assert failed.value.json_body["error"]["type"] == "api_error"
        assert (await client.v1.customers.list_async()).data == []  # GET not matched
    finally:
        await admin.delete("/_emulator/faults")
    assert emulator.state.summary(account_id)["customers"]["count"] == 0
    assert emulator.state.summary(account_id)["events"]["count"] == 0


async def test_faults_never_half_apply(emulator: RunningEmulator, account: tuple[str, str],
                                       client: stripe.StripeClient) -> None:
    account_id, _ = account
    emulator.state.set_faults(FaultConfig(rate_429=0.3, rate_500=0.3, seed=7,
                                          account_id=account_id))
    outcomes: list[str] = []
    try:
        for i in range(40):
            try:
                await client.v1.customers.create_async(
                    params={"email": f"f{i}@example.com"},
                    options={"idempotency_key": f"fault-{i}"})
                outcomes.append("ok")
            except stripe.RateLimitError:
                outcomes.append("429")
            except stripe.APIError:
                outcomes.append("500")
    finally:
        emulator.state.clear_faults()
    assert {"ok", "429", "500"} <= set(outcomes)
    summary = emulator.state.summary(account_id)
    assert summary["customers"]["count"] == outcomes.count("ok")
    assert summary["events"]["count"] == outcomes.count("ok")
    # A retry with the same key after an injected error executes (nothing was stored).
    failed = outcomes.index("500")
    retried = await client.v1.customers.create_async(
        params={"email": f"f{failed}@example.com"}, options={"idempotency_key": f"fault-{failed}"})
    assert retried.last_response is not None
    assert retried.last_response.headers.get("Idempotent-Replayed") is None


async def test_seeded_faults_are_deterministic(emulator: RunningEmulator,
                                               make_client: ClientFactory) -> None:
    runs = []
    for _ in range(2):
        account_id, key = emulator.new_account()
        client = make_client(key)
        emulator.state.set_faults(rate_500=0.5, seed=42, account_id=account_id)
        statuses = []
        try:
            for _ in range(20):
                try:
                    await client.v1.customers.list_async()
                    statuses.append(200)
                except stripe.APIError:
                    statuses.append(500)
        finally:
            emulator.state.clear_faults()
        runs.append(statuses)
    assert runs[0] == runs[1] and 200 in runs[0] and 500 in runs[0]


async def test_sdk_retries_injected_500_with_same_idempotency_key(
    emulator: RunningEmulator, account: tuple[str, str], make_client: ClientFactory
) -> None:
    account_id, key = account
    client = make_client(key, max_network_retries=2)
    emulator.state.set_faults(rate_500=1.0, times=1, account_id=account_id, method="POST")
    try:
        created = await client.v1.customers.create_async(params={"email": "r@example.com"})
    finally:
        emulator.state.clear_faults()
    log = emulator.state.requests(account_id)
    assert [e.status for e in log] == [500, 200]
    assert log[0].idempotency_key == log[1].idempotency_key  # the SDK retried with its key
    assert emulator.state.summary(account_id)["customers"]["ids"] == [created.id]


async def test_latency(emulator: RunningEmulator, account: tuple[str, str],
                       client: stripe.StripeClient) -> None:
    account_id, _ = account
    emulator.state.set_faults(latency_ms=150, account_id=account_id)
    try:
        started = time.monotonic()
        await client.v1.customers.list_async()
        assert time.monotonic() - started >= 0.15
    finally:
        emulator.state.clear_faults()


async def test_rate_limit_per_account(emulator: RunningEmulator, account: tuple[str, str],
                                      client: stripe.StripeClient,
                                      admin: httpx.AsyncClient) -> None:
    assert (await admin.put("/_emulator/rate_limit", json={"per_second": 5})).status_code == 200
    try:
        statuses = []
        for _ in range(8):
            try:
                await client.v1.customers.list_async()
                statuses.append(200)
            except stripe.RateLimitError:
                statuses.append(429)
    finally:
        await admin.put("/_emulator/rate_limit", json={"per_second": None})
    assert statuses == [200] * 5 + [429] * 3


async def test_bad_fault_settings_are_refused(admin: httpx.AsyncClient) -> None:
    assert (await admin.put("/_emulator/faults", json={"rate_429": 2})).status_code == 400
    assert (await admin.put("/_emulator/faults", json={"rate_42": 0.1})).status_code == 400
    assert (await admin.get("/_emulator/faults")).json() == {"faults": None}

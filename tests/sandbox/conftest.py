"""One emulator per test session on a loopback port; each test gets its own Stripe account."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
import stripe

from app.sandbox.server import RunningEmulator, running_emulator

T = TypeVar("T")

# Short retry delays keep webhook retry tests fast.
RETRY_DELAYS = (0.05, 0.1)


class ContentHTTPXClient(stripe.HTTPXClient):
    """stripe-python 16 hands httpx the form body as `data=<str>`, which httpx deprecates
    (a DeprecationWarning per POST, an error under `filterwarnings = error`). Same request,
    sent as `content=`."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        data = kwargs.pop("data", None)
        if data:
            kwargs["content"] = data
        return [args, kwargs]


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(webhook_retry_delays=RETRY_DELAYS) as emu:
        yield emu


@pytest.fixture
def account(emulator: RunningEmulator) -> tuple[str, str]:
    """(account id, secret key) of a fresh account."""
    return emulator.new_account()


ClientFactory = Callable[..., stripe.StripeClient]


@pytest_asyncio.fixture
async def make_client(emulator: RunningEmulator) -> AsyncIterator[ClientFactory]:
    """`make_client(key, max_network_retries=0)`: StripeClients closed after the test."""
    http_clients: list[ContentHTTPXClient] = []

    def factory(key: str, *, max_network_retries: int = 0) -> stripe.StripeClient:
        http_client = ContentHTTPXClient()
        http_clients.append(http_client)
        return stripe.StripeClient(
            key,
            base_addresses={"api": emulator.base_url},
            http_client=http_client,
            max_network_retries=max_network_retries,
        )

    yield factory
    for http_client in http_clients:
        await http_client.close_async()  # type: ignore[no-untyped-call]


@pytest_asyncio.fixture
async def client(make_client: ClientFactory, account: tuple[str, str]) -> stripe.StripeClient:
    return make_client(account[1])


@pytest_asyncio.fixture
async def admin(emulator: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP to the emulator (the `/_emulator` control API, raw `/v1` calls)."""
    async with httpx.AsyncClient(base_url=emulator.base_url, trust_env=False) as http:
        yield http


async def _wait_for(check: Callable[[], T | None], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


@pytest.fixture
def wait_for() -> Callable[..., Awaitable[Any]]:
    """`await wait_for(check, timeout=5.0)`: poll `check` until it returns something truthy."""
    return _wait_for

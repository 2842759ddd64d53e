"""Helpers for the block tests: serving ASGI apps on loopback inside the test's event loop, a
recording receiver, polling, and emulator invoices."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from app.stripe.gateway import StripeGateway

if TYPE_CHECKING:
    import httpx

    from app.context import AppContext
    from app.sandbox.server import RunningEmulator
    from app.store.workspaces import CreatedWorkspace

T = TypeVar("T")
INVOICE: dict[str, Any] = json.loads((Path(__file__).parents[1] / "data" / "stripe" / "invoice.json").read_text())


def paid_event(event_id: str = "evt_paid_1") -> dict[str, Any]:
    """An `invoice.paid` event around Stripe's invoice fixture."""
    invoice = {**INVOICE, "status": "paid", "number": "ABC-0001", "amount_paid": INVOICE["amount_due"]}
    return {"id": event_id, "type": "invoice.paid", "created": 1_700_000_000, "data": {"object": invoice}}


def bind_loopback() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def base_url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve `app` with uvicorn in this event loop (so it shares the test's AppContext)."""
    sock = sock or bind_loopback()
    config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning", access_log=False,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("server did not start")
        yield base_url(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class RecordingJobs:
    """A queue that runs nothing and remembers what was queued: the test drives the jobs."""

    queued: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)

    async def enqueue(self, name: str, *, key: str | None = None, delay_s: float = 0.0, **kwargs: Any) -> None:
        self.queued.append((name, delay_s, kwargs))

    async def start(self, ctx: AppContext) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ping(self) -> None:
        return None


@dataclass
class Stack:
    ctx: AppContext
    url: str
    emulator: RunningEmulator
    stripe_key: str
    workspace: CreatedWorkspace
    admin: httpx.AsyncClient
    operator: httpx.AsyncClient

    @property
    def ws(self) -> str:
        return self.workspace.workspace_id

    @property
    def gateway(self) -> StripeGateway:
        return self.ctx.stripe.for_key(self.stripe_key)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny HTTP target: records every request; answers with queued statuses, then 200."""

    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            self.requests.append(Received(request.url.path, dict(request.headers), await request.body()))
            status = self.statuses.pop(0) if self.statuses else 200
            return JSONResponse({"ok": status < 400, "n": len(self.requests)}, status_code=status)

        return Starlette(routes=[Route("/{path:path}", record, methods=["POST", "PUT", "PATCH"])])


async def until(predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "condition") -> None:
    """Wait until `predicate()` is true."""

    async def probe() -> bool:
        return predicate()

    await eventually(probe, timeout=timeout, what=what)


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def open_invoice(gw: StripeGateway, email: str, *, amount: int = 1500, tag: str = "") -> dict[str, Any]:
    """A finalized (open) send_invoice invoice for a customer with `email`."""
    key = f"test-{email}-{tag}"
    customer = await gw.create_customer({"email": email, "name": "Payer"}, f"{key}-customer")
    invoice = await gw.create_invoice({"customer": customer["id"], "collection_method": "send_invoice",
                                       "days_until_due": 30, "auto_advance": False}, f"{key}-invoice")
    line = {"price_data": {"currency": "usd", "unit_amount": amount, "product_data": {"name": "Work"}}, "quantity": 1}
    await gw.add_lines(invoice["id"], [line], f"{key}-lines")
    return await gw.finalize_invoice(invoice["id"], f"{key}-finalize")

"""Running the emulator: `serve()` (blocking, for the CLI) and `running_emulator()` (in-process).

    with running_emulator() as emu:
        account_id, key = emu.new_account()
        client = stripe.StripeClient(key, base_addresses={"api": emu.base_url},
                                     http_client=stripe.HTTPXClient(), max_network_retries=0)
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from app.sandbox.app import create_emulator_app
from app.sandbox.state import EmulatorState

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 10.0


def serve(host: str, port: int) -> None:
    """Serve a fresh emulator until interrupted (`invoicing sandbox stripe --port P`)."""
    # log_config=None: keep the logging the CLI configured instead of uvicorn's own.
    uvicorn.run(create_emulator_app(EmulatorState()), host=host, port=port, lifespan="on",
                ws="none", log_config=None)


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def running_server(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningServer]:
    """Serve any ASGI app with uvicorn in a background thread; returns once it accepts requests.

    The socket is bound here (port 0 = a free port), so the port is known before start-up and
    nothing else can take it. On exit the server shuts down (lifespan included) and the thread
    is joined.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", ws="none", log_level="warning",
                            access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as error:  # noqa: BLE001 - reported to the caller below
            failure.append(error)

    thread = threading.Thread(target=run, name=f"uvicorn-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(SHUTDOWN_TIMEOUT_S)
            sock.close()
            raise RuntimeError(f"server on {host}:{bound_port} failed to start: {failure!r}")
        time.sleep(0.005)
    try:
        yield RunningServer(host, bound_port)
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT_S)
        sock.close()
        if thread.is_alive():
            raise RuntimeError(f"server on {host}:{bound_port} did not stop")


@dataclass(frozen=True)
class RunningEmulator:
    base_url: str
    state: EmulatorState
    port: int

    def new_account(self, *, livemode: bool = False) -> tuple[str, str]:
        """(account id, secret key) of a fresh account."""
        keys = self.state.create_account(livemode=livemode)
        return keys.account_id, keys.secret_key


@contextmanager
def running_emulator(
    port: int = 0,
    *,
    state: EmulatorState | None = None,
    host: str = "127.0.0.1",
    webhook_retry_delays: Sequence[float] = (1, 5, 30),
) -> Iterator[RunningEmulator]:
    """The emulator on `http://127.0.0.1:<free port>` in a background thread, stopped on exit."""
    emulator = state if state is not None else EmulatorState()
    app = create_emulator_app(emulator, webhook_retry_delays=webhook_retry_delays)
    with running_server(app, host=host, port=port) as server:
        yield RunningEmulator(base_url=server.base_url, state=emulator, port=server.port)


def bind_loopback(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A socket on a (free) loopback port, bound now so the URL is known before the app is built."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@asynccontextmanager
async def serving_in_loop(
    app: ASGIApp, sock: socket.socket | None = None, *, lifespan: str = "on"
) -> AsyncIterator[str]:
    """uvicorn as a task of the running event loop (so the app may share the caller's loop and its
    AppContext); yields the base URL, and stops the server and closes the socket on exit."""
    sock = sock if sock is not None else bind_loopback()
    config = uvicorn.Config(app, lifespan=lifespan, ws="none", log_level="warning",  # type: ignore[arg-type]
                            access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()

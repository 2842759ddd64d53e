"""Shared browser-test fixtures: the real app served by uvicorn on a loopback port (in the event
loop the test runs in, so a test can also reach its AppContext), the Stripe emulator (the session
`emulator` of tests/conftest.py), and Debian's Chromium driven by Playwright (never `playwright
install`), launched once per session. Tests using them run in the session's event loop (the
Playwright objects belong to it): mark the module `pytestmark = BROWSER_TEST`.

    pytestmark = BROWSER_TEST

    async def test_x(live_app: LiveApp, page: Page, seen: SeenResponses) -> None:
        workspace = await live_app.workspace()
        await sign_in(page, live_app, workspace.admin_token, "/settings")
        ...
        await seen.assert_never_shown(page, secret)
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Error, Page, Response, Route, async_playwright
from starlette.types import ASGIApp

from app.context import AppContext, build_context
from app.http.app import build_app
from app.jobs.inprocess import InProcessJobs
from app.sandbox.server import RunningEmulator, bind_loopback, serving_in_loop
from app.store.workspaces import CreatedWorkspace, create_workspace
from tests.conftest import make_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The marks of a test module using these fixtures: `pytestmark = BROWSER_TEST`.
BROWSER_TEST = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@dataclass(frozen=True)
class LiveApp:
    """The app at `base_url` (its PUBLIC_URL too, so Stripe's webhooks reach it), its context and
    the emulator it talks to."""

    base_url: str
    ctx: AppContext
    emulator: RunningEmulator

    async def workspace(self, name: str = "Acme") -> CreatedWorkspace:
        return await create_workspace(self.ctx.store, name)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket) -> AsyncIterator[None]:
    """uvicorn in the current event loop on `sock` until the block ends (lifespan included)."""
    async with serving_in_loop(app, sock):
        yield


@pytest_asyncio.fixture(loop_scope="session")
async def live_app(tmp_path: Path, emulator: RunningEmulator) -> AsyncIterator[LiveApp]:
    sock = bind_loopback()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url, public_url=base_url,
                             stripe_rate_sandbox=2000.0)
    ctx = await build_context(settings, jobs=InProcessJobs(periodic=False))
    async with serving(build_app(ctx), sock):  # the app's lifespan starts the jobs and closes ctx
        yield LiveApp(base_url, ctx, emulator)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the session (tests using it run in the session's event loop: mark them
    `pytest.mark.asyncio(loop_scope="session")`, as `BROWSER_TEST` does); each test gets its own
    browser context, so no cookies or storage are shared."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-services.sh (apt-get install chromium)")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context and page; an uncaught script error on any page fails the test."""
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
    errors: list[str] = []
    try:
        opened = await context.new_page()
        opened.on("pageerror", lambda error: errors.append(f"{opened.url}: {error}"))
        yield opened
    finally:
        await context.close()
    assert not errors, f"script errors: {errors}"


@dataclass
class SeenResponses:
    """Every page and API response the browser received from the app: a secret must not be in any of
    them, nor in their headers, nor in the live DOM. API calls are read through a route (their
    bodies are captured before the page sees them, even if it navigates away at once); documents
    are read from their response events."""

    origin: str
    bodies: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (method, url)
    _reads: set[asyncio.Task[None]] = field(default_factory=set)

    async def attach(self, page: Page) -> None:
        page.on("response", self._on_response)
        await page.route(f"{self.origin}/**", self._through)

    async def _through(self, route: Route) -> None:
        if route.request.resource_type not in ("fetch", "xhr"):
            await route.fallback()
            return
        response = await route.fetch(max_redirects=0)
        self.bodies.append((f"{route.request.method} {route.request.url}", await response.text()))
        await route.fulfill(response=response)

    def _on_response(self, response: Response) -> None:
        if not response.url.startswith(self.origin):
            return
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.bodies.append((f"{response.url} (headers)", headers))
        if response.request.resource_type == "document" and not 300 <= response.status < 400:
            task = asyncio.ensure_future(self._read(response))
            self._reads.add(task)
            task.add_done_callback(self._reads.discard)

    async def _read(self, response: Response) -> None:
        try:
            self.bodies.append((response.url, await response.text()))
        except Error:  # the page navigated on before its body was read
            self.unreadable.append((response.request.method, response.url))

    async def assert_never_shown(self, page: Page, *secrets: str) -> None:
        await asyncio.gather(*list(self._reads))
        for method, url in self.unreadable:
            # A dropped document body is read again (reads only: a write is never repeated).
            assert method == "GET", f"could not read the response to {method} {url}"
            again = await page.context.request.get(url)
            self.bodies.append((url, await again.text()))
        assert any(not url.endswith("(headers)") for url, _ in self.bodies), "no responses were recorded"
        content = await page.content()
        for secret in secrets:
            assert secret not in content
            for url, body in self.bodies:
                assert secret not in body, f"the secret is in {url}"


@pytest_asyncio.fixture(loop_scope="session")
async def seen(page: Page, live_app: LiveApp) -> SeenResponses:
    recorder = SeenResponses(live_app.base_url)
    await recorder.attach(page)
    return recorder


async def sign_in(page: Page, app: LiveApp, token: str, next_path: str) -> None:
    """Open `next_path` through the token exchange (as a host's link would)."""
    await page.goto(app.url(f"/login?{urlencode({'token': token, 'next': next_path})}"))


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    await page.screenshot(path=str(path), full_page=True)
    return path

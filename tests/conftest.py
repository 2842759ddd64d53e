"""Shared fixtures: settings on a temp SQLite file, an AppContext, an ASGI client, a Postgres
database of our own (created and dropped here; nothing else on the server is touched)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings, load_settings
from app.context import AppContext, build_context
from app.http.app import build_app
from app.jobs.inprocess import InProcessJobs
from app.store.workspaces import CreatedWorkspace, create_workspace

PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/test.db",
        "data_dir": tmp_path,
        "app_secret": "test-app-secret",
        "public_url": "http://127.0.0.1:9",
        "redis_url": None,
        "log_format": "json",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@asynccontextmanager
async def running_context(settings: Settings) -> AsyncIterator[AppContext]:
    """An AppContext with its in-process queue running (no periodic jobs: tests drive time)."""
    context = await build_context(settings, jobs=InProcessJobs(periodic=False))
    await context.jobs.start(context)
    try:
        yield context
    finally:
        await context.aclose()


@asynccontextmanager
async def asgi_client(context: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(context, manage_context=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[AppContext]:
    async with running_context(settings) as context:
        yield context


@pytest.fixture
async def client(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(ctx) as c:
        yield c


@pytest.fixture
async def workspace(ctx: AppContext) -> CreatedWorkspace:
    return await create_workspace(ctx.store, "Acme")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _pg_admin(query: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(query)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped at the end of the session."""
    name = f"invoicing_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server: the Postgres variants are skipped, and say why
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}")
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/store.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    """One Stripe emulator over loopback for the session; tests make their own accounts in it."""
    from app.sandbox.server import running_emulator

    with running_emulator(webhook_retry_delays=(0.2, 0.5, 1.0)) as emu:
        yield emu


@pytest.fixture
def stripe_settings(tmp_path: Path, emulator: Any) -> Settings:
    return make_settings(tmp_path, stripe_api_base=emulator.base_url)


@pytest.fixture
async def sctx(stripe_settings: Settings) -> AsyncIterator[AppContext]:
    """An AppContext whose Stripe is the emulator."""
    async with running_context(stripe_settings) as context:
        yield context


@pytest.fixture
async def sclient(sctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(sctx) as c:
        yield c


@pytest.fixture
async def sworkspace(sctx: AppContext) -> CreatedWorkspace:
    return await create_workspace(sctx.store, "Acme")

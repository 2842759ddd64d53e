"""Fixtures for the embedded CRM: a store on SQLite and on Postgres, workspaces, an app client.

Postgres tests run in a database created for this session (`crm_test_<hex>`) and dropped at the
end; they are skipped, saying why, only when the server cannot be reached.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.config import load_settings
from app.context import AppContext, build_context
from app.crm.local.adapter import LocalCRM
from app.http.app import build_app
from app.store import Store
from app.store.workspaces import CreatedWorkspace, create_workspace

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
T = TypeVar("T")


def _run_elsewhere(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in another thread (sync fixtures, outside pytest's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    admin = make_url(PG_URL).set(drivername="postgresql")
    name = f"crm_test_{secrets.token_hex(6)}"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False), timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        _run_elsewhere(execute(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"Postgres not reachable at {admin.render_as_string()} ({exc!r}); set TEST_POSTGRES_URL")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_elsewhere(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the whole schema, made once: copying it is ~100x faster than DDL."""
    path = tmp_path_factory.mktemp("schema") / "template.db"

    async def make() -> None:
        store = Store(f"sqlite+aiosqlite:///{path}")
        await store.create_schema()
        await store.dispose()

    _run_elsewhere(make())
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "crm.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("pg_database_url")
    store = Store(url)
    await store.create_schema()
    try:
        yield store
    finally:
        await store.dispose()


@pytest.fixture
async def workspace(store: Store) -> CreatedWorkspace:
    return await create_workspace(store, "Acme Inc")


@pytest.fixture
async def crm(store: Store, workspace: CreatedWorkspace) -> LocalCRM:
    return LocalCRM(store, workspace.workspace_id)


@dataclass
class AppEnv:
    ctx: AppContext
    client: httpx.AsyncClient
    first: CreatedWorkspace
    second: CreatedWorkspace

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def op(self) -> dict[str, str]:
        return self.auth(self.first.operator_token)

    @property
    def other(self) -> dict[str, str]:
        return self.auth(self.second.operator_token)


async def make_env(database_url: str, data_dir: Path, **settings: Any) -> AsyncIterator[AppEnv]:
    ctx = await build_context(load_settings(database_url=database_url, data_dir=data_dir, app_secret="test", **settings))
    try:
        first = await create_workspace(ctx.store, "First")
        second = await create_workspace(ctx.store, "Second")
        transport = httpx.ASGITransport(app=build_app(ctx, manage_context=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield AppEnv(ctx, client, first, second)
    finally:
        await ctx.aclose()


@pytest.fixture
async def env(sqlite_url: str, tmp_path: Path) -> AsyncIterator[AppEnv]:
    async for value in make_env(sqlite_url, tmp_path, crm_backend="local"):
        yield value


@pytest.fixture
async def attio_env(sqlite_url: str, tmp_path: Path) -> AsyncIterator[AppEnv]:
    async for value in make_env(sqlite_url, tmp_path, crm_backend="attio"):
        yield value

"""Several processes (servers, workers, the CLI) starting at once on a fresh database each create
the schema. They used to race on CREATE TABLE: on Postgres 3 of 4 `invoicing serve` processes
died at start-up with a duplicate key in pg_type; on SQLite with "database is locked" (a deferred
transaction that has read cannot wait for the write lock, and switching a fresh file to WAL can
answer "locked" without waiting at all). Four stores in one loop reproduce it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.store import Store


async def _race(url: str) -> list[BaseException | None]:
    stores = [Store(url) for _ in range(4)]
    try:
        return await asyncio.gather(*(s.create_schema() for s in stores), return_exceptions=True)
    finally:
        for store in stores:
            await store.dispose()


async def test_concurrent_schema_creation_on_sqlite(tmp_path: Path) -> None:
    for i in range(8):
        results = await _race(f"sqlite+aiosqlite:///{tmp_path}/fresh{i}.db")
        assert results == [None] * 4, results


@pytest.mark.postgres
async def test_concurrent_schema_creation_on_postgres(pg_url: str) -> None:
    results = await _race(pg_url)
    assert results == [None] * 4, results
    assert await _race(pg_url) == [None] * 4  # and again on the migrated database

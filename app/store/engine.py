"""Engine construction, SQLite pragmas, and schema creation/migration on start."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.store.tables import metadata

log = logging.getLogger(__name__)


class StoreLocked(Exception):
    """Another connection holds SQLite's write lock: reads still work, every write waits."""


def _sqlite_write_probe(path: str, wait_s: float = 1.0) -> None:
    probe = sqlite3.connect(path, timeout=wait_s, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        raise StoreLocked(f"writes are blocked: {exc}") from exc
    finally:
        probe.close()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN (see _sqlite_begin) instead of the driver.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for attempt in range(100):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except Exception as exc:  # the adapted driver's OperationalError
            # Processes opening a fresh file at once: switching it to WAL can answer "database is
            # locked" without waiting for the busy timeout. Once the file is in WAL this is a no-op.
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.02)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """Owns the engine. `begin()` is one transaction; `connect()` autocommits nothing."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        self._sqlite_file: str | None = None
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                self._sqlite_file = database
            # Opening an aiosqlite connection costs a thread and the pragmas (~10 ms): pool them.
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 8
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def create_schema(self) -> None:
        # Servers, workers and the CLI starting together on a fresh database would race on CREATE
        # TABLE (Postgres: a duplicate key in pg_type; SQLite: "database is locked" at once, as a
        # deferred transaction that read cannot wait): one migrates, the others wait, then see it.
        async with self.begin() as conn:  # on SQLite: BEGIN IMMEDIATE
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7245198301)"))
            await conn.run_sync(metadata.create_all)
            await conn.run_sync(_add_missing_columns)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (on SQLite it takes the write lock up front)."""
        async with self.engine.connect() as conn:
            info = conn.sync_connection.info  # type: ignore[union-attr]
            info["immediate"] = self.is_sqlite
            try:
                async with conn.begin():
                    yield conn
            finally:
                info.pop("immediate", None)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        if self._sqlite_file:
            # In WAL mode reads work while another connection holds the write lock, so SELECT 1
            # would say "ready" while every webhook waits or fails: readiness takes the lock too.
            await asyncio.to_thread(_sqlite_write_probe, self._sqlite_file)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that later writes cannot wait for the lock (SQLite answers BUSY at
    # once to avoid a deadlock), so write transactions start IMMEDIATE and wait instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")


def _add_missing_columns(sync_conn: Any) -> None:
    """Additive migration: columns added to a table definition appear in an existing database."""
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateColumn

    inspector = inspect(sync_conn)
    for table in metadata.sorted_tables:
        existing = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in existing:
                ddl = CreateColumn(column).compile(dialect=sync_conn.dialect)
                log.info("migrating: adding column %s.%s", table.name, column.name)
                sync_conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {ddl}"))

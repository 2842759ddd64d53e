"""Dialect-specific INSERT … ON CONFLICT, the one place that knows SQLite from Postgres here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_ignore(dialect_name: str, table: Table, **values: Any) -> Any:
    insert = sqlite_insert if dialect_name == "sqlite" else pg_insert
    return insert(table).values(**values).on_conflict_do_nothing()


def insert_or_update(dialect_name: str, table: Table, keys: list[str], **values: Any) -> Any:
    insert = sqlite_insert if dialect_name == "sqlite" else pg_insert
    changes = {k: v for k, v in values.items() if k not in keys}
    return insert(table).values(**values).on_conflict_do_update(index_elements=keys, set_=changes)

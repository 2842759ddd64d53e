"""The Stripe connection of a workspace: key (encrypted), probe result, webhook endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.store.engine import Store
from app.store.tables import connections


@dataclass(frozen=True)
class ConnectionRow:
    workspace_id: str
    mode: str
    key_ciphertext: str
    key_masked: str
    account_id: str | None
    livemode: bool
    missing_permissions: list[str]
    connected_at: datetime
    webhook_endpoint_id: str | None
    webhook_secret_ciphertext: str | None
    webhook_url: str | None
    webhook_registered_at: datetime | None
    webhook_error: str | None


async def get_connection(store: Store, workspace_id: str) -> ConnectionRow | None:
    async with store.connect() as conn:
        row = (await conn.execute(select(connections).where(connections.c.workspace_id == workspace_id))).first()
    return ConnectionRow(**row._mapping) if row else None


async def save_connection(store: Store, workspace_id: str, **values: Any) -> None:
    insert = pg_insert if not store.is_sqlite else sqlite_insert
    stmt = insert(connections).values(workspace_id=workspace_id, **values)
    stmt = stmt.on_conflict_do_update(index_elements=[connections.c.workspace_id], set_=values)
    async with store.begin() as conn:
        await conn.execute(stmt)


async def update_connection(store: Store, workspace_id: str, **values: Any) -> None:
    async with store.begin() as conn:
        await conn.execute(update(connections).where(connections.c.workspace_id == workspace_id).values(**values))


async def delete_connection(store: Store, workspace_id: str) -> None:
    async with store.begin() as conn:
        await conn.execute(delete(connections).where(connections.c.workspace_id == workspace_id))

"""The Stripe connection of a workspace: key (encrypted), probe result, webhook endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from app.store.dialect import insert_or_update
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
    async with store.begin() as conn:
        await conn.execute(insert_or_update(store.dialect, connections, ["workspace_id"], workspace_id=workspace_id, **values))


async def update_connection(store: Store, workspace_id: str, **values: Any) -> None:
    async with store.begin() as conn:
        await conn.execute(update(connections).where(connections.c.workspace_id == workspace_id).values(**values))


async def delete_connection(store: Store, workspace_id: str) -> None:
    async with store.begin() as conn:
        await conn.execute(delete(connections).where(connections.c.workspace_id == workspace_id))

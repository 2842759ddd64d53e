"""The store works the same on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from app.clock import utcnow
from app.store import Store
from app.store.connections import get_connection, save_connection
from app.store.workspaces import (
    Role,
    create_workspace,
    delete_workspace_rows,
    get_settings,
    principal_for_token,
    update_settings,
)


async def test_schema_creation_is_idempotent(database_url: str) -> None:
    store = Store(database_url)
    try:
        await store.create_schema()
        await store.create_schema()
        await store.ping()
    finally:
        await store.dispose()


async def test_workspace_tokens_roles_and_cascade(database_url: str) -> None:
    store = Store(database_url)
    await store.create_schema()
    try:
        ws = await create_workspace(store, "Acme")
        admin = await principal_for_token(store, ws.admin_token)
        operator = await principal_for_token(store, ws.operator_token)
        assert admin is not None and admin.role is Role.ADMIN and admin.workspace_id == ws.workspace_id
        assert operator is not None and operator.role is Role.OPERATOR
        assert await principal_for_token(store, ws.admin_token + "x") is None
        async with store.connect() as conn:
            hashes = (await conn.execute(text("SELECT token_hash FROM api_tokens"))).scalars().all()
        assert ws.admin_token not in hashes and ws.operator_token not in hashes

        assert (await get_settings(store, ws.workspace_id)).sync_enabled is True
        updated = await update_settings(store, ws.workspace_id, sync_enabled=False)
        assert updated.sync_enabled is False

        await save_connection(store, ws.workspace_id, mode="sandbox", key_ciphertext="c", key_masked="sk_test_…abcd",
                              account_id="acct_1", livemode=False, missing_permissions=["Invoices: write"],
                              connected_at=utcnow())
        row = await get_connection(store, ws.workspace_id)
        assert row is not None and row.missing_permissions == ["Invoices: write"]
        await save_connection(store, ws.workspace_id, mode="sandbox", key_ciphertext="d", key_masked="sk_test_…efgh",
                              account_id="acct_1", livemode=False, missing_permissions=[], connected_at=utcnow())
        row = await get_connection(store, ws.workspace_id)
        assert row is not None and row.key_ciphertext == "d"

        assert await delete_workspace_rows(store, ws.workspace_id)
        assert await principal_for_token(store, ws.admin_token) is None
        assert await get_connection(store, ws.workspace_id) is None
    finally:
        await store.dispose()


async def test_concurrent_writers_do_not_fail(database_url: str) -> None:
    store = Store(database_url)
    await store.create_schema()
    try:
        created = await asyncio.gather(*(create_workspace(store, f"ws{i}") for i in range(20)))
        assert len({c.workspace_id for c in created}) == 20
    finally:
        await store.dispose()


async def test_sqlite_uses_wal(tmp_path: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/wal.db")
    await store.create_schema()
    try:
        async with store.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
        assert mode == "wal"
    finally:
        await store.dispose()

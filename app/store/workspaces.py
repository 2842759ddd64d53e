"""Workspaces, their API tokens (stored hashed) and their settings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import delete, insert, select, update

from app.clock import utcnow
from app.secrets_box import hash_token, new_id, new_token
from app.store.engine import Store
from app.store.tables import api_tokens, settings, workspaces


class Role(str, Enum):
    ADMIN = "admin"
    OPERATOR = "operator"

    def allows(self, needed: Role) -> bool:
        return self is Role.ADMIN or self is needed


@dataclass(frozen=True)
class CreatedWorkspace:
    workspace_id: str
    admin_token: str
    operator_token: str


@dataclass(frozen=True)
class Principal:
    workspace_id: str
    role: Role


@dataclass(frozen=True)
class WorkspaceSettings:
    sync_enabled: bool
    auto_create_people: bool
    schema_mapping: dict[str, Any] | None


async def create_workspace(store: Store, name: str) -> CreatedWorkspace:
    name = name.strip()
    if not name:
        raise ValueError("workspace name must not be empty")
    ws_id = new_id("ws")
    admin, operator = new_token("inv_admin"), new_token("inv_operator")
    now = utcnow()
    async with store.begin() as conn:
        await conn.execute(insert(workspaces).values(id=ws_id, name=name, created_at=now))
        for role, token in ((Role.ADMIN, admin), (Role.OPERATOR, operator)):
            await conn.execute(
                insert(api_tokens).values(
                    id=new_id("tok"), workspace_id=ws_id, role=role.value,
                    token_hash=hash_token(token), created_at=now,
                )
            )
        await conn.execute(
            insert(settings).values(
                workspace_id=ws_id, sync_enabled=True, auto_create_people=False,
                schema_mapping=None, updated_at=now,
            )
        )
    return CreatedWorkspace(ws_id, admin, operator)


async def principal_for_token(store: Store, token: str) -> Principal | None:
    async with store.connect() as conn:
        row = (
            await conn.execute(
                select(api_tokens.c.workspace_id, api_tokens.c.role).where(
                    api_tokens.c.token_hash == hash_token(token)
                )
            )
        ).first()
    return Principal(row.workspace_id, Role(row.role)) if row else None


async def workspace_exists(store: Store, workspace_id: str) -> bool:
    async with store.connect() as conn:
        row = (await conn.execute(select(workspaces.c.id).where(workspaces.c.id == workspace_id))).first()
    return row is not None


async def list_workspace_ids(store: Store) -> list[str]:
    async with store.connect() as conn:
        rows = (await conn.execute(select(workspaces.c.id).order_by(workspaces.c.created_at))).all()
    return [r.id for r in rows]


async def delete_workspace_rows(store: Store, workspace_id: str) -> bool:
    """Remove the workspace and, by cascade, its tokens, connection and settings."""
    async with store.begin() as conn:
        result = await conn.execute(delete(workspaces).where(workspaces.c.id == workspace_id))
    return bool(result.rowcount)


async def get_settings(store: Store, workspace_id: str) -> WorkspaceSettings:
    async with store.connect() as conn:
        row = (await conn.execute(select(settings).where(settings.c.workspace_id == workspace_id))).first()
    if row is None:
        return WorkspaceSettings(sync_enabled=True, auto_create_people=False, schema_mapping=None)
    return WorkspaceSettings(row.sync_enabled, row.auto_create_people, row.schema_mapping)


async def update_settings(store: Store, workspace_id: str, **values: Any) -> WorkspaceSettings:
    async with store.begin() as conn:
        await conn.execute(
            update(settings).where(settings.c.workspace_id == workspace_id).values(updated_at=utcnow(), **values)
        )
    return await get_settings(store, workspace_id)

"""A workspace's settings: sync toggle, auto-create people, schema mapping; and what changes
when they change (the webhook endpoint follows the sync toggle)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.connection.webhook_endpoint import reconcile_webhook
from app.errors import AppError
from app.store.connections import get_connection
from app.store.workspaces import WorkspaceSettings, get_settings, update_settings
from schema_mapping.mapping import SchemaMapping

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


def mapping_of(settings: WorkspaceSettings) -> SchemaMapping:
    stored = settings.schema_mapping
    return SchemaMapping.model_validate(stored) if stored else SchemaMapping.default()


async def schema_mapping_for(ctx: AppContext, workspace_id: str) -> SchemaMapping:
    return mapping_of(await get_settings(ctx.store, workspace_id))


async def settings_json(ctx: AppContext, workspace_id: str) -> dict[str, Any]:
    current = await get_settings(ctx.store, workspace_id)
    mapping = await schema_mapping_for(ctx, workspace_id)
    return {
        "sync_enabled": current.sync_enabled,
        "auto_create_people": current.auto_create_people,
        "schema": mapping.model_dump(),
    }


async def change_settings(
    ctx: AppContext,
    workspace_id: str,
    *,
    sync_enabled: bool | None,
    auto_create_people: bool | None,
    schema: SchemaMapping | None,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if sync_enabled is not None:
        values["sync_enabled"] = sync_enabled
    if auto_create_people is not None:
        values["auto_create_people"] = auto_create_people
    if schema is not None:
        values["schema_mapping"] = schema.model_dump()
    before = await get_settings(ctx.store, workspace_id)
    if values:
        await update_settings(ctx.store, workspace_id, **values)
    result = await settings_json(ctx, workspace_id)
    if sync_enabled is not None and sync_enabled != before.sync_enabled:
        result["webhook"] = await _follow_sync_toggle(ctx, workspace_id)
    return result


async def _follow_sync_toggle(ctx: AppContext, workspace_id: str) -> dict[str, Any]:
    if await get_connection(ctx.store, workspace_id) is None:
        return {"registered": False, "message": "Not connected to Stripe: connect a key to receive events."}
    try:
        await reconcile_webhook(ctx, workspace_id)
    except AppError as exc:
        log.warning("webhook did not follow the sync toggle", extra={"workspace_id": workspace_id, "error": exc.message})
        return {"registered": False, "needs_reconnect": True,
                "message": f"{exc.message} Reconnect the Stripe key to retry."}
    row = await get_connection(ctx.store, workspace_id)
    return {"registered": bool(row and row.webhook_endpoint_id)}

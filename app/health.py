"""GET /api/health: connection, permissions, webhook, schema, sync, backfill — each part says
what is wrong in words, and one failing part never hides the others."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.connection.service import describe
from app.errors import AppError
from app.store.workspaces import get_settings
from app.workspace_settings import schema_mapping_for
from schema_mapping.setup import check_schema

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


async def _schema_health(ctx: AppContext, workspace_id: str) -> dict[str, Any]:
    mapping = await schema_mapping_for(ctx, workspace_id)
    try:
        report = await check_schema(ctx.crm(workspace_id), mapping)
    except AppError as exc:
        return {"ok": False, "object": mapping.object_slug, "error": exc.message}
    result: dict[str, Any] = report.model_dump(mode="json")
    return result


async def _sync_health(ctx: AppContext, workspace_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    try:
        from app.sync.health import backfill_health, event_health
    except ImportError:
        return {}, None
    return await event_health(ctx, workspace_id), await backfill_health(ctx, workspace_id)


async def workspace_health(ctx: AppContext, workspace_id: str) -> dict[str, Any]:
    connection = await describe(ctx, workspace_id)
    settings = await get_settings(ctx.store, workspace_id)
    events, backfill = await _sync_health(ctx, workspace_id)
    webhook = {**connection.pop("webhook"), **events}
    missing = connection.pop("missing_permissions")
    detail = connection.pop("missing_permissions_detail")
    return {
        "connection": connection,
        "missing_permissions": missing,
        "missing_permissions_detail": detail,
        "webhook": webhook,
        "schema": await _schema_health(ctx, workspace_id) if settings.sync_enabled else {"ok": True, "skipped": "sync is off"},
        "sync_enabled": settings.sync_enabled,
        "auto_create_people": settings.auto_create_people,
        "backfill": backfill,
    }

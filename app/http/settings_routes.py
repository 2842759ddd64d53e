"""GET /api/health, GET/PATCH /api/settings, POST /api/schema/setup."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.health import workspace_health
from app.http.auth import authenticate
from app.http.body import read_json
from app.store.workspaces import Role
from app.workspace_settings import change_settings, schema_mapping_for, settings_json
from schema_mapping.mapping import SchemaMapping
from schema_mapping.setup import ensure_schema


class SettingsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sync_enabled: bool | None = None
    auto_create_people: bool | None = None
    mapping: SchemaMapping | None = Field(default=None, alias="schema")


class SchemaSetupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: SchemaMapping | None = Field(default=None, alias="schema")


async def get_health(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    return JSONResponse(await workspace_health(request.app.state.ctx, principal.workspace_id))


async def get_settings(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    return JSONResponse(await settings_json(request.app.state.ctx, principal.workspace_id))


async def patch_settings(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    body = await read_json(request, SettingsPatch)
    result = await change_settings(
        request.app.state.ctx, principal.workspace_id,
        sync_enabled=body.sync_enabled, auto_create_people=body.auto_create_people, schema=body.mapping,
    )
    return JSONResponse(result)


async def post_schema_setup(request: Request) -> Response:
    """Idempotent: create or reuse the object and add only what is missing. An optional mapping in
    the body is saved first (the settings panel's "Save and set up schema")."""
    principal = await authenticate(request, Role.ADMIN)
    ctx = request.app.state.ctx
    body = await read_json(request, SchemaSetupRequest, empty_ok=True)
    if body.mapping is not None:
        await change_settings(ctx, principal.workspace_id, sync_enabled=None, auto_create_people=None, schema=body.mapping)
    mapping = await schema_mapping_for(ctx, principal.workspace_id)
    report = await ensure_schema(ctx.crm(principal.workspace_id), mapping)
    payload: dict[str, Any] = report.model_dump(mode="json")
    return JSONResponse(payload, status_code=200 if report.ok else 409)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/health", get_health, methods=["GET"]),
        Route("/api/settings", get_settings, methods=["GET"]),
        Route("/api/settings", patch_settings, methods=["PATCH"]),
        Route("/api/schema/setup", post_schema_setup, methods=["POST"]),
    ]

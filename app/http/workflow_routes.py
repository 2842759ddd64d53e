"""`/api/workflows` (admin): internal workflows and their run history (DESIGN §6 contract)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.errors import validation_error
from app.http.auth import authenticate
from app.http.body import read_json
from app.store.workspaces import Role
from blocks.runs import list_runs
from blocks.validation import WorkflowSpec
from blocks.workflows import (
    WorkflowPatch,
    create_workflow,
    delete_workflow,
    get_workflow,
    list_workflows,
    update_workflow,
)


async def post_workflow(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    spec = await read_json(request, WorkflowSpec)
    return JSONResponse(await create_workflow(request.app.state.ctx, principal.workspace_id, spec), status_code=201)


async def get_workflows(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    return JSONResponse({"data": await list_workflows(request.app.state.ctx, principal.workspace_id)})


async def get_one(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    return JSONResponse(await get_workflow(request.app.state.ctx, principal.workspace_id, request.path_params["id"]))


async def patch_one(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    patch = await read_json(request, WorkflowPatch)
    ctx = request.app.state.ctx
    return JSONResponse(await update_workflow(ctx, principal.workspace_id, request.path_params["id"], patch))


async def delete_one(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    await delete_workflow(request.app.state.ctx, principal.workspace_id, request.path_params["id"])
    return JSONResponse({"id": request.path_params["id"], "deleted": True})


async def get_runs(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    ctx = request.app.state.ctx
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise validation_error("limit must be an integer from 1 to 200.", limit="out of range")
    await get_workflow(ctx, principal.workspace_id, request.path_params["id"])  # 404 for an unknown id
    runs = await list_runs(ctx, principal.workspace_id, request.path_params["id"], limit=int(raw))
    return JSONResponse({"data": runs})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/workflows", post_workflow, methods=["POST"]),
        Route("/api/workflows", get_workflows, methods=["GET"]),
        Route("/api/workflows/{id}", get_one, methods=["GET"]),
        Route("/api/workflows/{id}", patch_one, methods=["PATCH"]),
        Route("/api/workflows/{id}", delete_one, methods=["DELETE"]),
        Route("/api/workflows/{id}/runs", get_runs, methods=["GET"]),
    ]

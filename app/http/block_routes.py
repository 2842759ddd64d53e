"""`/api/blocks` (operator): the block runtime for an external CRM host (DESIGN §6 contract).

`execute` answers 200 `{"execution_id", "outcome"}`, or the block's error as
`{"execution_id", "error": {"code", "message", "retryable", "fields"}}` with 422 (a retry cannot
help) or 503 (it can). Repeating an execution id repeats the answer.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.http.auth import authenticate
from app.http.body import read_json
from app.store.workspaces import Role
from blocks.activations import ActivateRequest, DeactivateRequest, activate, deactivate
from blocks.executions import ExecuteRequest, execute_block
from blocks.registry import BLOCKS, get_block


async def list_blocks(request: Request) -> Response:
    await authenticate(request, Role.OPERATOR)
    return JSONResponse({"data": [b.describe() for b in BLOCKS.values()]})


async def get_one(request: Request) -> Response:
    await authenticate(request, Role.OPERATOR)
    return JSONResponse(get_block(request.path_params["id"]).describe())


async def execute(request: Request) -> Response:
    principal = await authenticate(request, Role.OPERATOR)
    get_block(request.path_params["id"], "step")
    body = await read_json(request, ExecuteRequest)
    result = await execute_block(request.app.state.ctx, principal.workspace_id, request.path_params["id"], body)
    if result.failure is not None:
        status = 503 if result.failure.retryable else 422
        return JSONResponse({"execution_id": body.execution_id, "error": result.failure.to_json()}, status_code=status)
    return JSONResponse({"execution_id": body.execution_id, "outcome": result.outcome})


async def post_activate(request: Request) -> Response:
    principal = await authenticate(request, Role.OPERATOR)
    get_block(request.path_params["id"], "trigger")
    body = await read_json(request, ActivateRequest)
    return JSONResponse(await activate(request.app.state.ctx, principal.workspace_id, request.path_params["id"], body))


async def post_deactivate(request: Request) -> Response:
    principal = await authenticate(request, Role.OPERATOR)
    body = await read_json(request, DeactivateRequest)
    ctx = request.app.state.ctx
    return JSONResponse(await deactivate(ctx, principal.workspace_id, request.path_params["id"], body.activation_id))


def routes() -> list[BaseRoute]:
    return [
        Route("/api/blocks", list_blocks, methods=["GET"]),
        Route("/api/blocks/{id}", get_one, methods=["GET"]),
        Route("/api/blocks/{id}/execute", execute, methods=["POST"]),
        Route("/api/blocks/{id}/activate", post_activate, methods=["POST"]),
        Route("/api/blocks/{id}/deactivate", post_deactivate, methods=["POST"]),
    ]

"""PUT/DELETE /api/connection."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.connection.service import connect, disconnect
from app.http.auth import authenticate
from app.http.body import read_json
from app.store.workspaces import Role


class ConnectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stripe_api_key: str = Field(min_length=1, max_length=300)
    mode: Literal["sandbox", "production"]


async def put_connection(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    body = await read_json(request, ConnectRequest)
    result = await connect(request.app.state.ctx, principal.workspace_id, body.stripe_api_key, body.mode)
    return JSONResponse(result)


async def delete_connection(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    await disconnect(request.app.state.ctx, principal.workspace_id)
    return JSONResponse({"connected": False})


def routes() -> list[BaseRoute]:
    return [Route("/api/connection", put_connection, methods=["PUT"]),
            Route("/api/connection", delete_connection, methods=["DELETE"])]

"""GET /openapi.json: the description of the routes this app serves (built once per app)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.http.openapi import build_openapi


async def openapi_json(request: Request) -> Response:
    doc = getattr(request.app.state, "openapi", None)
    if doc is None:
        doc = request.app.state.openapi = build_openapi(request.app.routes)
    return JSONResponse(doc)


def routes() -> list[BaseRoute]:
    return [Route("/openapi.json", openapi_json, methods=["GET"])]

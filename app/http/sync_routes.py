"""POST /api/actions/sync-invoices, GET /api/jobs/{id}, POST /api/sync/retry-failed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.http.auth import authenticate
from app.store.workspaces import Role
from app.sync.backfill import get_job, start_backfill
from app.sync.events import retry_failed_events


async def post_sync_invoices(request: Request) -> Response:
    principal = await authenticate(request, Role.OPERATOR)
    started = await start_backfill(request.app.state.ctx, principal.workspace_id)
    return JSONResponse({"job_id": started.job_id, "already_running": started.already_running}, status_code=202)


async def get_job_status(request: Request) -> Response:
    principal = await authenticate(request, Role.OPERATOR)
    return JSONResponse(await get_job(request.app.state.ctx, principal.workspace_id, request.path_params["job_id"]))


async def post_retry_failed(request: Request) -> Response:
    principal = await authenticate(request, Role.ADMIN)
    count = await retry_failed_events(request.app.state.ctx, principal.workspace_id)
    return JSONResponse({"requeued": count})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/actions/sync-invoices", post_sync_invoices, methods=["POST"]),
        Route("/api/jobs/{job_id}", get_job_status, methods=["GET"]),
        Route("/api/sync/retry-failed", post_retry_failed, methods=["POST"]),
    ]

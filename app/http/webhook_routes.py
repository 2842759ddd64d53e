"""POST /webhooks/stripe/{workspace_id}: answers are chosen, not accidental — 400 for a bad
signature or body, 413 for a huge one, 404 for an unknown workspace, 200 once stored (or already
stored), 5xx only when storing failed and Stripe's resend can help."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.errors import AppError
from app.http.body import read_body
from app.sync.intake import receive_webhook


async def stripe_webhook(request: Request) -> Response:
    ctx = request.app.state.ctx
    workspace_id = request.path_params["workspace_id"]
    try:
        payload = await read_body(request, ctx.settings.max_body_bytes)
        intake = await receive_webhook(ctx, workspace_id, payload, request.headers.get("stripe-signature"))
    except AppError as exc:
        ctx.metrics.events_rejected.labels(reason=exc.code.value).inc()
        raise
    return JSONResponse({"received": True, "event_id": intake.event_id, "duplicate": intake.duplicate})


def routes() -> list[BaseRoute]:
    return [Route("/webhooks/stripe/{workspace_id}", stripe_webhook, methods=["POST"])]

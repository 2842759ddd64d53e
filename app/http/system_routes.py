"""Liveness, readiness, metrics and the manifest."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "manifest.json"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    ctx = request.app.state.ctx
    checks: dict[str, str] = {}
    for name, probe in (("store", ctx.store.ping), ("queue", ctx.jobs.ping)):
        try:
            await probe()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports what is down, it does not raise
            checks[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    return Response(request.app.state.ctx.metrics.render(), media_type="text/plain; version=0.0.4")


async def manifest(request: Request) -> Response:
    return JSONResponse(json.loads(MANIFEST_PATH.read_text()))


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/manifest.json", manifest),
    ]

"""The Starlette application: explicit routes, lifespan owning the AppContext."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.context import AppContext, build_context
from app.errors import AppError
from app.http.errors import app_error_handler, http_exception_handler, unhandled_error_handler
from app.http.middleware import RequestIdMiddleware

log = logging.getLogger(__name__)

# Each module exposes `routes() -> list[BaseRoute]`; listed here so the whole surface is in one place.
ROUTE_MODULES: tuple[str, ...] = (
    "app.http.system_routes",
    "app.http.connection_routes",
    "app.http.settings_routes",
    "app.http.crm_routes",
    "app.http.invoice_routes",
    "app.http.sync_routes",
    "app.http.webhook_routes",
    "app.http.block_routes",
    "app.http.workflow_routes",
    "app.http.openapi_routes",
    "app.web.routes",
)


def _collect_routes() -> list[BaseRoute]:
    collected: list[BaseRoute] = []
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # capability not built yet
        collected.extend(module.routes())
    return collected


def create_app(settings: Settings) -> Starlette:
    """The app for a server process: the AppContext is built inside the server's event loop
    (its database and HTTP clients belong to that loop) and closed on shutdown."""
    holder: dict[str, Starlette] = {}

    @asynccontextmanager
    async def lifespan(outer: Starlette) -> AsyncIterator[None]:
        ctx = await build_context(settings)
        inner = build_app(ctx)
        holder["app"] = inner
        outer.state.ctx = ctx
        async with inner.router.lifespan_context(inner):
            yield

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        await holder["app"](scope, receive, send)

    outer = Starlette(lifespan=lifespan)
    # Every request goes to the inner app (a catch-all route's regex would miss paths with a
    # newline in them, which then got Starlette's text/plain 404 instead of our JSON error).
    outer.router.default = dispatch
    return outer


def build_app(ctx: AppContext, *, manage_context: bool = True) -> Starlette:
    """`manage_context`: start the queue and recover work on start-up, close everything on exit."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_context:
            await ctx.jobs.start(ctx)
            await ctx.recover()
        try:
            yield
        finally:
            if manage_context:
                await ctx.aclose()

    app = Starlette(
        routes=_collect_routes(),
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(
                SessionMiddleware,
                secret_key=ctx.box.derive("page-sessions"),
                session_cookie="invoicing_session",
                same_site="lax",
                https_only=ctx.settings.public_url.startswith("https://"),
                max_age=8 * 3600,
            ),
        ],
        exception_handlers={
            AppError: app_error_handler,
            HTTPException: http_exception_handler,
            Exception: unhandled_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app

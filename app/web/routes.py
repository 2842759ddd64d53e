"""Login (token -> session cookie), launch URLs, logout, the landing page and static files."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from app.errors import AppError
from app.http.auth import authenticate
from app.http.body import read_body
from app.store.workspaces import Role, principal_for_token
from app.web.pages.settings import reconnect, settings_page
from app.web.session import launch_url, read_launch, start_session
from app.web.templating import STATIC_DIR, render


def _safe_next(value: object) -> str:
    """A same-site path to go to after sign-in; anything else ("//host", "/\\host", a URL, a
    non-string from JSON) becomes "/"."""
    if not isinstance(value, str) or not value.startswith("/") or value[1:2] in ("/", "\\"):
        return "/"
    return value if value.isprintable() else "/"


async def login_page(request: Request) -> Response:
    token = request.query_params.get("token")
    next_path = _safe_next(request.query_params.get("next"))
    if token:
        # Exchanged once, then redirected so the token leaves the address bar and history.
        return await _exchange(request, token, next_path)
    return render(request, "login.html", next=next_path, error=None)


async def login_submit(request: Request) -> Response:
    from urllib.parse import parse_qs

    raw = await read_body(request, 16_384)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    return await _exchange(request, form.get("token", "").strip(), _safe_next(form.get("next")))


async def _exchange(request: Request, token: str, next_path: str) -> Response:
    principal = await principal_for_token(request.app.state.ctx.store, token) if token else None
    if principal is None:
        return render(request, "login.html", status_code=401, next=next_path, error="That token is not valid.")
    start_session(request, principal)
    if next_path == "/":
        next_path = "/settings" if principal.role is Role.ADMIN else "/crm"
    return RedirectResponse(next_path, status_code=303)


async def launch(request: Request) -> Response:
    found = read_launch(request, request.query_params.get("s", ""))
    if found is None:
        return render(request, "login.html", status_code=401, next="/", error="That launch link has expired; ask the host for a new one.")
    principal, next_path = found
    start_session(request, principal)
    return RedirectResponse(next_path, status_code=303)


async def create_launch_url(request: Request) -> Response:
    """POST /api/launch-url {"next": "/actions/create-invoice?..."}: for a host embedding a page."""
    from starlette.responses import JSONResponse

    principal = await authenticate(request, Role.OPERATOR)
    import json

    try:
        body = json.loads(await read_body(request, 16_384) or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # not UTF-8/16/32; nested too deeply
        body = {}
    next_path = _safe_next(body.get("next") if isinstance(body, dict) else None)
    return JSONResponse({"url": launch_url(request, principal, next_path), "expires_in": 300})


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def index(request: Request) -> Response:
    try:
        principal = await authenticate(request, Role.OPERATOR)
    except AppError:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/settings" if principal.role is Role.ADMIN else "/crm", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/", index),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/launch", launch, methods=["GET"]),
        Route("/logout", logout, methods=["POST", "GET"]),
        Route("/api/launch-url", create_launch_url, methods=["POST"]),
        Route("/settings", settings_page, methods=["GET"]),
        Route("/settings/reconnect", reconnect, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]

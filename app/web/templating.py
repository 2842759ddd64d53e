"""The Jinja2 environment and a page renderer that always passes the CSRF token and principal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from app.web.session import csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def templates(request: Request) -> Jinja2Templates:
    found: Jinja2Templates | None = getattr(request.app.state, "templates", None)
    if found is None:
        found = request.app.state.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    return found


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal = request.session.get("principal") if "session" in request.scope else None
    return templates(request).TemplateResponse(
        request, name, {"csrf_token": csrf_token(request), "principal": principal, **context}, status_code=status_code,
        # No X-Frame-Options: a CRM host embeds the dialog in an iframe.
        headers={"Cache-Control": "no-store", "Referrer-Policy": "same-origin"},
    )

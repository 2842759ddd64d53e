"""Page sessions: a bearer token is exchanged once for a signed HttpOnly SameSite cookie; a host
can instead open a page through a short-lived signed launch URL. Every state-changing request
made from a page carries the session's CSRF token (checked in app.http.auth)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request

from app.store.workspaces import Principal, Role

LAUNCH_MAX_AGE_S = 300


def start_session(request: Request, principal: Principal) -> None:
    request.session.clear()
    request.session["principal"] = {"workspace_id": principal.workspace_id, "role": principal.role.value}
    request.session["csrf"] = secrets.token_urlsafe(24)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.ctx.box.derive("launch-urls"), salt="launch")


def launch_url(request: Request, principal: Principal, next_path: str) -> str:
    """A URL that opens `next_path` as `principal` for the next five minutes."""
    signed = _serializer(request).dumps({"w": principal.workspace_id, "r": principal.role.value, "n": next_path})
    return f"{request.app.state.ctx.settings.public_url.rstrip('/')}/launch?{urlencode({'s': signed})}"


def read_launch(request: Request, signed: str) -> tuple[Principal, str] | None:
    try:
        data = _serializer(request).loads(signed, max_age=LAUNCH_MAX_AGE_S)
    except (BadSignature, SignatureExpired):
        return None
    next_path = str(data.get("n") or "/")
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/"
    return Principal(str(data["w"]), Role(data["r"])), next_path

"""Bearer-token auth: the token names the workspace and the role."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from app.errors import AppError, ErrorCode
from app.store.workspaces import Principal, Role, principal_for_token


async def authenticate(request: Request, needed: Role) -> Principal:
    """The caller's workspace and role, or 401/403 with a message that says why."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        principal = await _page_session(request)
        if principal is None:
            raise AppError(ErrorCode.UNAUTHENTICATED, "Missing bearer token: send 'Authorization: Bearer <token>'.")
    else:
        principal = await principal_for_token(request.app.state.ctx.store, token)
        if principal is None:
            raise AppError(ErrorCode.UNAUTHENTICATED, "Unknown or revoked token.")
    if not principal.role.allows(needed):
        raise AppError(ErrorCode.FORBIDDEN, f"This needs the {needed.value} role; your token is {principal.role.value}.")
    return principal


async def _page_session(request: Request) -> Principal | None:
    """A page session cookie (set by the web pages) stands in for the bearer token."""
    if "session" not in request.scope:
        return None
    data = request.session.get("principal")
    if not isinstance(data, dict):
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # A cookie rides along on cross-site requests; the CSRF header cannot.
        expected = request.session.get("csrf")
        if not expected or not hmac.compare_digest(request.headers.get("x-csrf-token", ""), expected):
            raise AppError(ErrorCode.FORBIDDEN, "Missing or wrong CSRF token: reload the page and try again.")
    try:
        return Principal(str(data["workspace_id"]), Role(data["role"]))
    except (KeyError, ValueError):
        return None

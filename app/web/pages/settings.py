"""`GET /settings` (the admin's settings panel) and `POST /settings/reconnect`.

The page is rendered whole on the server; its script calls the JSON API with the page session and
re-reads this same page to refresh the parts an action changed.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.connection.keys import Mode
from app.connection.service import connect
from app.errors import AppError, ErrorCode
from app.http.auth import authenticate
from app.store.connections import get_connection
from app.store.workspaces import Role
from app.web.pages.settings_view import settings_context
from app.web.templating import render

PATH = "/settings"


async def settings_page(request: Request) -> Response:
    try:
        principal = await authenticate(request, Role.ADMIN)
    except AppError as exc:
        if exc.code is ErrorCode.UNAUTHENTICATED:
            return RedirectResponse(f"/login?{urlencode({'next': PATH})}", status_code=303)
        return render(
            request, "settings/message.html", status_code=403,
            title="Settings are for workspace admins",
            message="You are signed in with an operator token, which can create and sync invoices but cannot "
                    "change the Stripe connection or the sync settings.",
            hint="Ask a workspace admin, or sign in again with the admin token.",
            login_url=f"/login?{urlencode({'next': PATH})}",
        )
    try:
        context = await settings_context(request.app.state.ctx, principal.workspace_id)
    except AppError as exc:
        return render(request, "settings/message.html", status_code=exc.status,
                      title="The settings cannot be shown right now", message=exc.message,
                      hint="Reload the page to try again.", login_url=None)
    return render(request, "settings.html", **context)


async def reconnect(request: Request) -> Response:
    """Connect again with the stored key: re-checks its permissions (a restricted key's permissions
    can be changed in Stripe without changing the key) and registers the webhook afresh."""
    principal = await authenticate(request, Role.ADMIN)
    ctx = request.app.state.ctx
    row = await get_connection(ctx.store, principal.workspace_id)
    if row is None:
        raise AppError(ErrorCode.NOT_CONNECTED, "This workspace is not connected to Stripe: paste a key and connect.")
    result = await connect(ctx, principal.workspace_id, ctx.box.decrypt(row.key_ciphertext), cast(Mode, row.mode))
    return JSONResponse(result)

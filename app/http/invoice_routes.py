"""Create Invoice over HTTP: the dialog's context, the action itself, and the dialog page."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.context import AppContext
from app.errors import AppError, ErrorCode, validation_error
from app.http.auth import authenticate
from app.http.body import parse_model, read_json
from app.invoicing.context import invoice_context
from app.invoicing.models import RECORD_ID, CreateInvoiceRequest, ObjectSlug
from app.invoicing.service import create_invoice
from app.store.workspaces import Role
from app.web.templating import render

_CLIENT_KEY = re.compile(r"[A-Za-z0-9_\-]{8,100}")


class ContextQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: ObjectSlug
    record_id: str = Field(pattern=RECORD_ID)


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def context_endpoint(request: Request) -> Response:
    """GET /api/actions/create-invoice/context?object=&record_id=: recipients and catalog."""
    principal = await authenticate(request, Role.OPERATOR)
    query = parse_model(ContextQuery, dict(request.query_params))
    body = await invoice_context(_ctx(request), principal.workspace_id, query.object, query.record_id)
    return JSONResponse(body)


async def create_endpoint(request: Request) -> Response:
    """POST /api/actions/create-invoice (contract). An optional `Idempotency-Key` header makes a
    client's retry of the same request return the same invoice instead of a second one."""
    principal = await authenticate(request, Role.OPERATOR)
    req = await read_json(request, CreateInvoiceRequest)
    execution_id = None
    client_key = request.headers.get("idempotency-key")
    if client_key is not None:
        if not _CLIENT_KEY.fullmatch(client_key):
            raise validation_error("The Idempotency-Key header must be 8 to 100 letters, digits, '-' or '_'.",
                                   idempotency_key="invalid")
        execution_id = f"client:{client_key}"
    result = await create_invoice(_ctx(request), principal.workspace_id, req, execution_id=execution_id)
    return JSONResponse(result.model_dump(mode="json"), status_code=201)


async def dialog_page(request: Request) -> Response:
    """GET /actions/create-invoice?object=&record_id=[&embed=1]: the dialog (also in an iframe)."""
    embed = request.query_params.get("embed") == "1"
    try:
        principal = await authenticate(request, Role.OPERATOR)
    except AppError as exc:
        if exc.code is not ErrorCode.UNAUTHENTICATED:
            return _problem(request, embed, exc.status, "Not allowed", exc.message)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _problem(request, embed, 401, "Sign in to create an invoice",
                        "Your session has expired or you have not signed in yet.",
                        login_url="/login?" + urlencode({"next": here}))
    try:
        query = parse_model(ContextQuery, dict(request.query_params))
        data = await invoice_context(_ctx(request), principal.workspace_id, query.object, query.record_id)
    except AppError as exc:
        return _problem(request, embed, exc.status, "Cannot create an invoice here", exc.message)
    return render(request, "create_invoice.html", data=data, embed=embed, problem=None)


def _problem(request: Request, embed: bool, status: int, title: str, message: str,
             login_url: str | None = None) -> Response:
    return render(request, "create_invoice.html", status_code=status, data=None, embed=embed,
                  problem={"title": title, "message": message, "login_url": login_url})


def routes() -> list[BaseRoute]:
    return [
        Route("/api/actions/create-invoice/context", context_endpoint, methods=["GET"]),
        Route("/api/actions/create-invoice", create_endpoint, methods=["POST"]),
        Route("/actions/create-invoice", dialog_page, methods=["GET"]),
    ]

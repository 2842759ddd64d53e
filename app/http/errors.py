"""Exception handlers: AppError -> its JSON and status; anything else -> a 500 without details."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import AppError, ErrorCode

log = logging.getLogger(__name__)


async def app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if exc.detail:
        log.info("request refused", extra={"code": exc.code.value, "detail": exc.detail, "path": request.url.path})
    return JSONResponse(exc.to_json(), status_code=exc.status)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.VALIDATION}.get(exc.status_code, ErrorCode.VALIDATION)
    message = "No such endpoint." if exc.status_code == 404 else str(exc.detail)
    body: dict[str, object] = {"error": {"code": code.value, "message": message, "fields": {}}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def unhandled_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    err = AppError(ErrorCode.INTERNAL, "Something went wrong on our side; it has been logged. Try again.")
    return JSONResponse(err.to_json(), status_code=500)

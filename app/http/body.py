"""Reading request bodies with a size cap, and validating JSON into pydantic models."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from app.errors import AppError, ErrorCode

M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:  # the body ended early: a client error, not a 500
        raise AppError(ErrorCode.MALFORMED_JSON, "The request body ended early (the connection closed).") from exc
    return b"".join(chunks)


def _too_large(limit: int) -> AppError:
    return AppError(ErrorCode.BODY_TOO_LARGE, f"Request body is larger than {limit // 1024} KB.")


async def read_json(request: Request, model: type[M], *, empty_ok: bool = False) -> M:
    """The body validated into `model`; with `empty_ok`, an empty body means the model's defaults."""
    limit: int = request.app.state.ctx.settings.max_body_bytes
    raw = await read_body(request, limit)
    if empty_ok and not raw.strip():
        return parse_model(model, {})
    return parse_model(model, parse_json_object(raw))


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        data: Any = json.loads(raw) if raw.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AppError(ErrorCode.MALFORMED_JSON, f"Request body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # e.g. 100,000 nested '[': the parser's stack, not a 500
        raise AppError(ErrorCode.MALFORMED_JSON, "Request body is nested too deeply.") from exc
    if not isinstance(data, dict):
        raise AppError(ErrorCode.MALFORMED_JSON, "Request body must be a JSON object.")
    return data


def parse_model(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failure(exc) from exc


def validation_failure(exc: ValidationError) -> AppError:
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        msg = err["msg"].removeprefix("Value error, ")
        fields.setdefault(loc, msg)
    summary = "; ".join(f"{k}: {v}" for k, v in list(fields.items())[:5])
    return AppError(ErrorCode.VALIDATION, f"Invalid request: {summary}", fields=fields)

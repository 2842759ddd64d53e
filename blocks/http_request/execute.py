"""Send the request; classify the answer (5xx, 408, 429 and network failures may pass on retry)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from blocks.base import StepCall
from blocks.errors import BlockError, BlockErrorCode

if TYPE_CHECKING:
    from app.context import AppContext

_RETRYABLE_4XX = frozenset({408, 425, 429})
_MAX_BODY_CHARS = 20_000


def _answer(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:_MAX_BODY_CHARS]


async def execute(ctx: AppContext, call: StepCall) -> dict[str, Any]:
    config = call.config
    headers = {**config.headers, "Content-Type": "application/json", "Idempotency-Key": call.execution_id}
    try:
        response = await ctx.http.request(
            config.method, config.url, content=json.dumps(config.body).encode(), headers=headers,
            timeout=config.timeout_s,
        )
    except httpx.TimeoutException as exc:
        raise BlockError(BlockErrorCode.HTTP_UNREACHABLE, f"{config.url} did not answer within {config.timeout_s:g} s.") from exc
    except httpx.HTTPError as exc:
        raise BlockError(BlockErrorCode.HTTP_UNREACHABLE, f"Could not reach {config.url}: {type(exc).__name__}.") from exc
    status = response.status_code
    if status >= 500 or status in _RETRYABLE_4XX:
        raise BlockError(BlockErrorCode.HTTP_UPSTREAM, f"{config.url} answered {status}.",
                         fields={"status_code": status})
    if status >= 400:
        raise BlockError(BlockErrorCode.HTTP_REJECTED, f"{config.url} refused the request with {status}.",
                         fields={"status_code": status, "body": str(_answer(response))[:500]})
    return {"status_code": status, "body": _answer(response)}

"""HTTP to Attio's REST API: bearer auth, client-side rate limits, retries, error mapping.

Reads (GET and `.../query`) draw on the 100/s bucket, everything else on the 25/s one. A 429 is
retried after its `Retry-After` (Attio sends an HTTP date; plain seconds are accepted too); a 5xx or
a connection error is retried with exponential backoff. Both are bounded by `max_attempts`; then
they become CRM_RATE_LIMITED / CRM_UNAVAILABLE. Other statuses map to one `AttioError` each, with
Attio's own error `code` in the message and the detail. The token is never logged nor put in an
error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from app.crm.attio.ratelimit import RateLimits, Sleep
from app.errors import AppError, ErrorCode

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.attio.com"
Json = dict[str, Any]


class AttioError(AppError):
    """An error answer from Attio; `attio_code` is Attio's `code` (e.g. `slug_conflict`)."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        attio_status: int | None,
        attio_code: str | None,
        detail: str | None = None,
    ) -> None:
        super().__init__(code, message, detail=detail)
        self.attio_status = attio_status
        self.attio_code = attio_code


class _Retryable(Exception):
    def __init__(self, status: int | None, attio_code: str | None, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.attio_code = attio_code
        self.text = text


class _RateLimited(_Retryable):
    def __init__(self, attio_code: str | None, text: str, retry_after: float) -> None:
        super().__init__(429, attio_code, text)
        self.retry_after = retry_after


class _Unavailable(_Retryable):
    pass


def is_read(method: str, path: str) -> bool:
    """Attio counts queries (POST .../query) as reads."""
    return method == "GET" or (method == "POST" and path.rstrip("/").endswith("/query"))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """Attio's error body is `{status_code, type, code, message}`; anything else is tolerated."""
    try:
        body = response.json()
    except ValueError:
        return None, response.reason_phrase or f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return None, f"HTTP {response.status_code}"
    code = body.get("code")
    message = body.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else f"HTTP {response.status_code}",
    )


_STATUS_CODES: dict[int, tuple[ErrorCode, str]] = {
    400: (ErrorCode.CRM_INVALID_REQUEST, "Attio rejected the request"),
    401: (ErrorCode.CRM_INVALID_REQUEST, "Attio refused the API token"),
    403: (ErrorCode.CRM_INVALID_REQUEST, "The Attio API token lacks a required scope"),
    404: (ErrorCode.NOT_FOUND, "Attio could not find it"),
    409: (ErrorCode.CONFLICT, "Attio reports a conflict"),
    422: (ErrorCode.CRM_INVALID_REQUEST, "Attio rejected the request"),
}


class AttioTransport:
    """Sends one Attio request at a time for an adapter; share `limits` across adapters of a token."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        limits: RateLimits | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not token:
            raise ValueError("an Attio API token is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._token = token
        self._base_url = base_url.rstrip("/")
        self.limits = limits if limits is not None else RateLimits.for_attio(sleep=sleep)
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._now = now

    def __repr__(self) -> str:
        return f"AttioTransport(base_url={self._base_url!r}, token=***)"

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Json:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Json, params: dict[str, Any] | None = None) -> Json:
        return await self.request("POST", path, params=params, body=body)

    async def put(self, path: str, body: Json, params: dict[str, Any] | None = None) -> Json:
        return await self.request("PUT", path, params=params, body=body)

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Json | None = None
    ) -> Json:
        """One logical request (retried as needed); returns the decoded JSON body."""
        bucket = self.limits.read if is_read(method, path) else self.limits.write
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await bucket.acquire()
                    return await self._send_once(method, path, params, body)
        except _RateLimited as exc:
            raise AttioError(
                ErrorCode.CRM_RATE_LIMITED,
                f"Attio is rate limiting requests ({exc.attio_code or 'rate_limited'}); try again shortly.",
                attio_status=429,
                attio_code=exc.attio_code,
                detail=self._detail(method, path, exc.status, exc.attio_code, exc.text),
            ) from None
        except _Unavailable as exc:
            raise AttioError(
                ErrorCode.CRM_UNAVAILABLE,
                "Attio is unavailable right now"
                + (f" ({exc.attio_code})" if exc.attio_code else "")
                + "; try again later.",
                attio_status=exc.status,
                attio_code=exc.attio_code,
                detail=self._detail(method, path, exc.status, exc.attio_code, exc.text),
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _send_once(self, method: str, path: str, params: dict[str, Any] | None, body: Json | None) -> Json:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            response = await self._client.request(
                method, self._base_url + path, params=params, json=body, headers=headers
            )
        except httpx.TransportError as exc:
            raise _Unavailable(None, None, f"{type(exc).__name__}: {self._scrub(str(exc))}") from exc
        status = response.status_code
        if 200 <= status < 300:
            try:
                data = response.json()
            except ValueError:
                raise _Unavailable(status, None, "response is not JSON") from None
            if not isinstance(data, dict):
                raise _Unavailable(status, None, "response is not a JSON object")
            return data
        attio_code, text = _error_fields(response)
        text = self._scrub(text)
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"), self._now())
            wait = 1.0 if wait is None else min(wait, self._max_retry_after)
            raise _RateLimited(attio_code, text, wait)
        if status >= 500:
            raise _Unavailable(status, attio_code, text)
        app_code, summary = _STATUS_CODES.get(status, _STATUS_CODES[400])
        raise AttioError(
            app_code,
            f"{summary} ({attio_code or status}): {text}",
            attio_status=status,
            attio_code=attio_code,
            detail=self._detail(method, path, status, attio_code, text),
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _RateLimited):
            return exc.retry_after
        return float(min(self._backoff_max, self._backoff_base * 2 ** (state.attempt_number - 1)))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable):
            logger.warning(
                "attio retry attempt=%d status=%s code=%s: %s",
                state.attempt_number,
                exc.status,
                exc.attio_code,
                exc.text,
            )

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***")

    @staticmethod
    def _detail(method: str, path: str, status: int | None, code: str | None, text: str) -> str:
        return f"attio {method} {path} -> {status if status is not None else 'no response'} code={code}: {text}"

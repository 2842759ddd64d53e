from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from app.crm.attio import paths
from app.crm.attio.bodies import query_body
from app.crm.attio.transport import AttioError, AttioTransport, parse_retry_after
from app.errors import ErrorCode
from tests.crm.attio import canned
from tests.crm.attio.canned_server import TOKEN, CannedAttio

PEOPLE = canned.object_json("people", "Person", "People")
QUERY = paths.records_query("people")


def not_found() -> tuple[int, dict[str, object]]:
    return 404, canned.error_json(404, "not_found", 'Object with slug/ID "nope" not found.')


async def test_sends_bearer_token_and_returns_json() -> None:
    server = CannedAttio()
    route = server.on("GET", "/v2/objects/people", (200, {"data": PEOPLE}))
    data = await server.transport().get(paths.object_("people"))
    assert data == {"data": PEOPLE}
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert str(request.url) == "https://api.attio.com/v2/objects/people"


async def test_429_waits_retry_after_seconds_then_succeeds() -> None:
    server = CannedAttio()
    route = server.on("POST", QUERY, (429, canned.rate_limit_json(), {"Retry-After": "2"}), (200, {"data": []}))
    assert await server.transport().post(QUERY, query_body(limit=1)) == {"data": []}
    assert route.call_count == 2
    assert server.clock.sleeps == [2.0]  # fake clock: no real waiting


async def test_429_with_http_date_retry_after() -> None:
    server = CannedAttio()
    server.on(
        "GET",
        "/v2/objects/people",
        (429, canned.rate_limit_json(), {"Retry-After": "Tue, 23 May 2023 14:42:01 GMT"}),
        (200, {"data": PEOPLE}),
    )
    transport = server.transport()
    transport._now = lambda: datetime(2023, 5, 23, 14, 42, 0, 500000, tzinfo=UTC)  # half a second before
    await transport.get(paths.object_("people"))
    assert server.clock.sleeps == [pytest.approx(0.5)]


async def test_429_exhausted_is_rate_limited() -> None:
    server = CannedAttio()
    route = server.on("GET", "/v2/objects/people", (429, canned.rate_limit_json(), {"Retry-After": "0"}))
    with pytest.raises(AttioError) as info:
        await server.transport(max_attempts=3).get(paths.object_("people"))
    assert route.call_count == 3
    assert info.value.code is ErrorCode.CRM_RATE_LIMITED
    assert info.value.retryable
    assert "rate_limit_exceeded" in info.value.message


async def test_5xx_is_retried_with_exponential_backoff() -> None:
    server = CannedAttio()
    route = server.on(
        "GET",
        "/v2/objects/people",
        (500, canned.server_error_json()),
        (503, canned.server_error_json(503)),
        (200, {"data": PEOPLE}),
    )
    await server.transport().get(paths.object_("people"))
    assert route.call_count == 3
    assert server.clock.sleeps == [0.5, 1.0]


async def test_5xx_exhausted_is_unavailable() -> None:
    server = CannedAttio()
    route = server.on("GET", "/v2/objects/people", (502, canned.server_error_json(502)))
    with pytest.raises(AttioError) as info:
        await server.transport(max_attempts=4).get(paths.object_("people"))
    assert route.call_count == 4
    assert info.value.code is ErrorCode.CRM_UNAVAILABLE
    assert "internal_server_error" in info.value.message
    assert "502" in (info.value.detail or "")
    assert server.clock.sleeps == [0.5, 1.0, 2.0]


async def test_connection_errors_are_retried() -> None:
    server = CannedAttio()
    server.on("GET", "/v2/objects/people", httpx.ConnectError("connection refused"), (200, {"data": PEOPLE}))
    assert await server.transport().get(paths.object_("people")) == {"data": PEOPLE}


async def test_connection_errors_exhausted() -> None:
    server = CannedAttio()
    server.on("GET", "/v2/objects/people", httpx.ReadTimeout("timed out"))
    with pytest.raises(AttioError) as info:
        await server.transport(max_attempts=2).get(paths.object_("people"))
    assert info.value.code is ErrorCode.CRM_UNAVAILABLE
    assert "ReadTimeout" in (info.value.detail or "")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "validation_type", ErrorCode.CRM_INVALID_REQUEST),
        (422, "validation_type", ErrorCode.CRM_INVALID_REQUEST),
        (401, "invalid_token", ErrorCode.CRM_INVALID_REQUEST),
        (403, "missing_scope", ErrorCode.CRM_INVALID_REQUEST),
        (404, "not_found", ErrorCode.NOT_FOUND),
        (409, "slug_conflict", ErrorCode.CONFLICT),
    ],
)
async def test_error_mapping_keeps_attio_code(status: int, code: str, expected: ErrorCode) -> None:
    server = CannedAttio()
    route = server.on("POST", "/v2/objects", (status, canned.error_json(status, code, "Attio says no.")))
    with pytest.raises(AttioError) as info:
        await server.transport().post(
            "/v2/objects", {"data": {"api_slug": "x", "singular_noun": "X", "plural_noun": "Xs"}}
        )
    assert route.call_count == 1  # never retried
    err = info.value
    assert err.code is expected
    assert (err.attio_status, err.attio_code) == (status, code)
    assert code in err.message and "Attio says no." in err.message
    assert code in (err.detail or "") and "POST /v2/objects" in (err.detail or "")
    assert not err.retryable


async def test_non_json_error_body() -> None:
    server = CannedAttio()
    server.router.route(method="GET", path="/v2/objects/people").mock(
        return_value=httpx.Response(400, text="<html>bad</html>")
    )
    with pytest.raises(AttioError) as info:
        await server.transport().get(paths.object_("people"))
    assert info.value.code is ErrorCode.CRM_INVALID_REQUEST
    assert info.value.attio_code is None


async def test_token_never_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    server = CannedAttio()
    echo = canned.error_json(401, "invalid_token", f"Token {TOKEN} is not valid")
    server.on("GET", "/v2/objects/a", (401, echo))
    server.on("GET", "/v2/objects/b", (500, canned.server_error_json()))
    server.on("GET", "/v2/objects/c", httpx.ConnectError(f"cannot reach, token {TOKEN}"))
    transport = server.transport(max_attempts=2)
    errors: list[AttioError] = []
    with caplog.at_level(logging.DEBUG):
        for slug in ("a", "b", "c"):
            with pytest.raises(AttioError) as info:
                await transport.get(paths.object_(slug))
            errors.append(info.value)
    for err in errors:
        for text in (err.message, err.detail or "", str(err), repr(err), str(err.to_json())):
            assert TOKEN not in text
    assert TOKEN not in caplog.text
    assert "attio retry" in caplog.text
    assert TOKEN not in repr(transport)


async def test_reads_and_writes_use_their_own_buckets() -> None:
    server = CannedAttio()
    server.on("POST", QUERY, (200, {"data": []}))
    server.on("POST", "/v2/objects", (200, {"data": PEOPLE}))
    transport = server.transport()
    for _ in range(100):
        await transport.post(QUERY, query_body(limit=1))
    assert server.clock.sleeps == []
    for _ in range(26):
        await transport.post("/v2/objects", {"data": {"api_slug": "p", "singular_noun": "P", "plural_noun": "Ps"}})
    assert server.clock.sleeps == [pytest.approx(1 / 25)]
    await transport.post(QUERY, query_body(limit=1))
    assert transport.limits.read.available < 100


def test_parse_retry_after() -> None:
    now = datetime(2023, 5, 23, 14, 42, 0, tzinfo=UTC)
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after("0.25", now) == 0.25
    assert parse_retry_after("Tue, 23 May 2023 14:42:01 GMT", now) == 1.0
    assert parse_retry_after("Tue, 23 May 2023 14:41:00 GMT", now) == 0.0
    assert parse_retry_after("-5", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_retry_after_is_capped_and_defaults_to_one_second() -> None:
    server = CannedAttio()
    server.on(
        "GET",
        "/v2/objects/people",
        (429, canned.rate_limit_json(), {"Retry-After": "3600"}),
        (429, canned.rate_limit_json()),
        (200, {"data": PEOPLE}),
    )
    await server.transport().get(paths.object_("people"))
    assert server.clock.sleeps == [60.0, 1.0]


async def test_needs_a_token() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError):
            AttioTransport(client, "")

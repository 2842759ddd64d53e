"""The `/v1` request pipeline: faults, auth, permission, rate limit, idempotency, handler, log.

Order matters and mirrors Stripe: a key's permission is checked before the route's objects are
looked up or its params validated, so a read-only key gets 403 even for an id that does not
exist, while a write key gets 404 (the app probes write permission this way).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.sandbox import auth
from app.sandbox.errors import StripeError, api_error, idempotency_mismatch, rate_limited
from app.sandbox.expand import expand
from app.sandbox.faults import over_rate_limit
from app.sandbox.forms import Form, parse_form, parse_pairs
from app.sandbox.models import Access, Account, ApiKey, IdempotencyRecord
from app.sandbox.state import IDEMPOTENCY_KEYS_KEPT, EmulatorState, RequestLogEntry
from app.sandbox.templates import Templates

log = logging.getLogger(__name__)


@dataclass
class ApiContext:
    """What a handler gets: the caller's account and key, parsed params, request identity."""

    state: EmulatorState
    account: Account
    api_key: ApiKey
    form: Form
    path_params: dict[str, str]
    base_url: str
    request_id: str
    idempotency_key: str | None
    now: int

    @property
    def livemode(self) -> bool:
        return self.api_key.livemode

    @property
    def templates(self) -> Templates:
        return self.state.templates

    def path(self, name: str) -> str:
        return self.path_params[name]


Handler = Callable[[ApiContext], dict[str, Any]]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    handler: Handler
    resource: str | None  # None: any valid key may call it
    access: Access = "read"


def _fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def base_url_of(state: EmulatorState, request: Request) -> str:
    return state.public_url or str(request.base_url).rstrip("/")


def api_endpoint(state: EmulatorState, route: ApiRoute) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handle(state, route, request)

    return endpoint


async def handle(state: EmulatorState, route: ApiRoute, request: Request) -> Response:
    method = request.method.upper()
    path = request.url.path
    raw_body = await request.body()
    params = parse_pairs(request.query_params.multi_items())
    if method == "POST" and raw_body:
        params.update(parse_form(raw_body))
    key = auth.bearer_key(request.headers.get("authorization"))
    idempotency_key = request.headers.get("idempotency-key") or None
    if method not in ("POST", "DELETE"):
        idempotency_key = None

    with state.lock:
        known = state.keys.get(key) if key else None
        caller_account = known.account_id if known else None
        fault = state.faults.decide(method, path, caller_account)
    if fault.latency_s:
        await asyncio.sleep(fault.latency_s)

    headers: dict[str, str] = {}
    with state.lock:
        request_id = state.new_id("req_", 14)
        try:
            if fault.status == 429:
                raise rate_limited()
            if fault.status == 500:
                raise api_error()
            status, body, replayed, account = _execute(
                state, route, request, params, key, idempotency_key, request_id
            )
        except StripeError as error:
            status, body, replayed, account = _failed(error, None)
        state.log_request(RequestLogEntry(
            request_id=request_id,
            account_id=account.id if account else caller_account,
            method=method,
            path=path,
            status=status,
            idempotency_key=idempotency_key,
            idempotent_replayed=replayed,
            time=time.time(),
        ))
        api_version = request.headers.get("stripe-version") or (
            account.api_version if account else None
        )
    state.notify()
    headers["Request-Id"] = request_id
    if api_version:
        headers["Stripe-Version"] = api_version
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=status, headers=headers, media_type="application/json")


# (status, body, idempotent_replayed, account)
Outcome = tuple[int, bytes, bool, Account | None]


def _failed(error: StripeError, account: Account | None) -> Outcome:
    return error.status, _json_bytes(error.body()), False, account


def _execute(
    state: EmulatorState,
    route: ApiRoute,
    request: Request,
    params: dict[str, Any],
    key: str | None,
    idempotency_key: str | None,
    request_id: str,
) -> Outcome:
    """Runs under `state.lock`, without awaiting: the request is atomic."""
    api_key, account = auth.authenticate(state, key)
    try:
        auth.authorize(api_key, account, route.resource, route.access)
        if over_rate_limit(account.recent_requests, time.monotonic(), state.rate_limit_per_second):
            raise rate_limited()
    except StripeError as error:
        return _failed(error, account)

    fingerprint = ""
    if idempotency_key is not None:
        fingerprint = _fingerprint(request.method, request.url.path, params)
        record = account.idempotency.get(idempotency_key)
        if record is not None:
            if record.fingerprint != fingerprint:
                return _failed(idempotency_mismatch(idempotency_key), account)
            return record.status, record.body, True, account

    ctx = ApiContext(
        state=state,
        account=account,
        api_key=api_key,
        form=Form(params),
        path_params={k: str(v) for k, v in request.path_params.items()},
        base_url=base_url_of(state, request),
        request_id=request_id,
        idempotency_key=idempotency_key,
        now=state.now(),
    )
    try:
        result = route.handler(ctx)
        expand_paths = ctx.form.strings("expand") or []
        if expand_paths:
            result = expand(ctx, result, expand_paths)
        status, body = 200, _json_bytes(result)
    except StripeError as error:
        status, body = error.status, _json_bytes(error.body())
        if error.is_validation:  # Stripe saves nothing for requests that failed validation
            return status, body, False, account
    except Exception:  # a bug in the emulator: answer like Stripe's 500, keep no record
        log.exception("emulator handler failed: %s %s", request.method, request.url.path)
        return _failed(api_error(), account)

    if idempotency_key is not None:
        account.idempotency[idempotency_key] = IdempotencyRecord(fingerprint, status, body)
        if len(account.idempotency) > IDEMPOTENCY_KEYS_KEPT:
            account.idempotency.popitem(last=False)
    return status, body, False, account

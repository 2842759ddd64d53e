"""`/_emulator`: the control API for tests and demos (no auth: it is a test tool).

Every route is a thin JSON wrapper over the same-named `EmulatorState` method.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.api import base_url_of
from app.sandbox.faults import FaultConfig
from app.sandbox.state import EmulatorState

Endpoint = Callable[[Request], Awaitable[Response]]
Action = Callable[[EmulatorState, Request, dict[str, Any]], Any]


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


def _wrap(state: EmulatorState, action: Action) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        body: dict[str, Any] = {}
        raw = await request.body()
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                return _error(400, "the body must be JSON")
            if not isinstance(parsed, dict):
                return _error(400, "the body must be a JSON object")
            body = parsed
        try:
            result = action(state, request, body)
        except AdminError as error:
            return _error(error.status, str(error))
        except KeyError as error:
            return _error(404, str(error.args[0]) if error.args else "not found")
        except (ValueError, TypeError) as error:
            return _error(400, str(error))
        return JSONResponse(result)

    return endpoint


def _require(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        raise AdminError(400, f"missing {key!r}")
    return body[key]


def _account_param(request: Request) -> str | None:
    return request.query_params.get("account_id") or None


def create_account(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    keys = state.create_account(livemode=bool(body.get("livemode", False)))
    return {"account_id": keys.account_id, "secret_key": keys.secret_key,
            "livemode": bool(body.get("livemode", False))}


def create_restricted_key(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    permissions = body.get("permissions") or {}
    if not isinstance(permissions, dict):
        raise AdminError(400, "permissions must be an object: resource -> none|read|write")
    livemode = body.get("livemode")
    key = state.create_restricted_key(str(_require(body, "account_id")), permissions,
                                      livemode=None if livemode is None else bool(livemode))
    return {"key": key}


def revoke_key(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    state.revoke_key(str(_require(body, "key")))
    return {"revoked": True}


def get_faults(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    config = state.faults.config
    return {"faults": config.to_json() if config else None}


def put_faults(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    config = FaultConfig.from_json(body)
    state.set_faults(config)
    return {"faults": config.to_json()}


def delete_faults(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    state.clear_faults()
    return {"faults": None}


def put_rate_limit(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    value = body.get("per_second")
    state.set_rate_limit(None if value is None else float(value))
    return {"per_second": state.rate_limit_per_second}


def get_requests(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    entries = [e.to_json() for e in state.requests(_account_param(request))]
    return {"data": entries, "count": len(entries)}


def delete_requests(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    state.clear_requests(_account_param(request))
    return {"cleared": True}


def get_state(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    account_id = _account_param(request)
    if account_id is not None:
        return state.summary(account_id)
    with state.lock:
        accounts = [{"account_id": a.id, "livemode": a.livemode, "customers": len(a.customers),
                     "invoices": len(a.invoices), "events": len(a.events)}
                    for a in state.accounts.values()]
    return {"accounts": accounts, "webhooks_paused": state.webhooks_paused}


def get_webhooks(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    return {"paused": state.webhooks_paused}


def put_webhooks(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    state.set_webhooks_paused(bool(_require(body, "paused")))
    return {"paused": state.webhooks_paused}


def get_deliveries(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    attempts = [d.to_json() for d in state.delivery_attempts(_account_param(request))]
    return {"data": attempts, "count": len(attempts)}


def payment_failed(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    invoice_id = request.path_params["id"]
    if invoice_id not in state.invoice_accounts:
        raise AdminError(404, f"no such invoice: {invoice_id}")
    return state.fail_invoice_payment(invoice_id)


def bulk_invoices(state: EmulatorState, request: Request, body: dict[str, Any]) -> Any:
    return state.bulk_invoices(
        str(_require(body, "account_id")),
        int(_require(body, "count")),
        customers=int(body.get("customers", 1)),
        statuses=body.get("statuses"),
        currency=str(body.get("currency", "usd")).lower(),
        base_url=base_url_of(state, request),
    )


def admin_routes(state: EmulatorState) -> list[Route]:
    def route(path: str, action: Action, method: str) -> Route:
        return Route("/_emulator" + path, _wrap(state, action), methods=[method])

    return [
        route("/accounts", create_account, "POST"),
        route("/restricted_keys", create_restricted_key, "POST"),
        route("/keys/revoke", revoke_key, "POST"),
        route("/faults", get_faults, "GET"),
        route("/faults", put_faults, "PUT"),
        route("/faults", delete_faults, "DELETE"),
        route("/rate_limit", put_rate_limit, "PUT"),
        route("/requests", get_requests, "GET"),
        route("/requests", delete_requests, "DELETE"),
        route("/state", get_state, "GET"),
        route("/webhooks", get_webhooks, "GET"),
        route("/webhooks", put_webhooks, "PUT"),
        route("/deliveries", get_deliveries, "GET"),
        route("/invoices/{id}/payment_failed", payment_failed, "POST"),
        route("/bulk_invoices", bulk_invoices, "POST"),
    ]

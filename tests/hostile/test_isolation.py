"""Tenant isolation: workspace A's tokens against workspace B's ids, on every route.

The routes are enumerated from the app itself. A route with a path parameter must say where B's
value for it comes from (`PATH_IDS`); a route that takes ids in its query or body has a case in
`BODY_IDS`; a route that takes no foreign id at all is on the allow-list `NO_FOREIGN_IDS` with the
reason. A new route that is in none of them fails `test_every_route_is_covered`, so it cannot ship
untested. Every call must answer 404 (or 403) — or, where the route is idempotent by design, leave
B untouched — and B's data must never appear in the body.

Then the tokens: no token is 401, a garbage token is 401, an operator token on an admin route is
403, on every route that needs one (roles from the OpenAPI table `app.http.openapi.OPERATIONS`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from app.context import AppContext
from app.http.app import _collect_routes
from app.http.openapi import EXCLUDED, OPERATIONS, route_operations
from app.store.workflow_tables import block_activations
from app.store.workspaces import create_workspace
from tests.hostile.support import Seeded, bearer, seed_workspace, sign, stored_events, webhook_secret

ROUTES = [op for op in route_operations(_collect_routes()) if op not in EXCLUDED]
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")

# Path parameters that name something global (the same for every workspace), not a foreign id.
GLOBAL_PARAMS = {("/api/blocks/{id}", "id"), ("/api/blocks/{id}/execute", "id"),
                 ("/api/blocks/{id}/activate", "id"), ("/api/blocks/{id}/deactivate", "id")}

# path -> B's values for its parameters (one dict per variant).
PATH_IDS: dict[str, Callable[[Seeded], list[dict[str, str]]]] = {
    "/api/jobs/{job_id}": lambda b: [{"job_id": b.ids["job"]}],
    "/api/workflows/{id}": lambda b: [{"id": b.ids["workflow"]}],
    "/api/workflows/{id}/runs": lambda b: [{"id": b.ids["workflow"]}],
    "/api/crm/people/{id}": lambda b: [{"id": b.ids["person"]}],
    "/api/crm/companies/{id}": lambda b: [{"id": b.ids["company"]}],
    "/api/crm/objects/{slug}": lambda b: [{"slug": b.ids["object"]}],
    "/api/crm/objects/{slug}/attributes": lambda b: [{"slug": b.ids["object"]}],
    "/api/crm/objects/{slug}/records": lambda b: [{"slug": b.ids["object"]}],
    "/api/crm/objects/{slug}/records/{id}": lambda b: [
        {"slug": b.ids["object"], "id": b.ids["record"]}, {"slug": "people", "id": b.ids["person"]},
        {"slug": "companies", "id": b.ids["company"]}],
    "/crm/people/{id}": lambda b: [{"id": b.ids["person"]}],
    "/crm/companies/{id}": lambda b: [{"id": b.ids["company"]}],
    "/crm/objects/{slug}": lambda b: [{"slug": b.ids["object"]}],
    "/crm/objects/{slug}/{id}": lambda b: [{"slug": b.ids["object"], "id": b.ids["record"]}],
    "/webhooks/stripe/{workspace_id}": lambda b: [{"workspace_id": b.workspace_id}],
}


@dataclass(frozen=True)
class Call:
    """A request to make with A's token; `kind` says what a correct answer is."""

    query: dict[str, str] | None = None
    json: Any = None
    kind: str = "not_found"  # not_found | refused | b_untouched


# (method, path) -> B's ids in the query or body.
BODY_IDS: dict[tuple[str, str], Callable[[Seeded, Seeded], list[Call]]] = {
    ("GET", "/api/actions/create-invoice/context"): lambda a, b: [
        Call(query={"object": "people", "record_id": b.ids["person"]}),
        Call(query={"object": "companies", "record_id": b.ids["company"]})],
    ("GET", "/actions/create-invoice"): lambda a, b: [
        Call(query={"object": "people", "record_id": b.ids["person"]}),
        Call(query={"object": "companies", "record_id": b.ids["company"]})],
    ("POST", "/api/actions/create-invoice"): lambda a, b: [
        Call(json=_invoice("people", b.ids["person"])),
        Call(json=_invoice("companies", b.ids["company"])),
        # A's own company, B's person as the recipient
        Call(json=_invoice("companies", a.ids["company"], person_record_id=b.ids["person"]), kind="refused")],
    ("POST", "/api/crm/people"): lambda a, b: [  # a reference inside a body: 404 or 422 both fit
        Call(json={"name": "Intruder", "email": "intruder@a.example", "company_id": b.ids["company"],
                   "main_contact": True}, kind="refused")],
    ("POST", "/api/blocks/{id}/execute"): lambda a, b: [
        # B's execution id with B's exact config: must run afresh for A, never replay B's outcome
        Call(json={"execution_id": b.ids["execution"],
                   "config": {"email": f"{b.tag}.exec@{b.tag}.example", "name": f"{b.tag} Exec"}},
             kind="b_untouched")],
    ("POST", "/api/blocks/{id}/activate"): lambda a, b: [
        Call(json={"activation_id": b.ids["activation"], "callback_url": "http://127.0.0.1:9/intruder"},
             kind="b_untouched")],
    ("POST", "/api/blocks/{id}/deactivate"): lambda a, b: [
        Call(json={"activation_id": b.ids["activation"]}, kind="b_untouched")],
}

# Routes that take no foreign id (the token alone names the workspace), and why.
NO_FOREIGN_IDS: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public, no data", ("GET", "/readyz"): "public, no data",
    ("GET", "/metrics"): "public, process-wide counters without ids",
    ("GET", "/manifest.json"): "public, static", ("GET", "/openapi.json"): "public, static",
    ("PUT", "/api/connection"): "the caller's own connection", ("DELETE", "/api/connection"): "own connection",
    ("GET", "/api/health"): "own workspace", ("GET", "/api/settings"): "own workspace",
    ("PATCH", "/api/settings"): "own workspace", ("POST", "/api/schema/setup"): "own workspace",
    ("POST", "/api/sync/retry-failed"): "own workspace", ("POST", "/api/actions/sync-invoices"): "own workspace",
    ("GET", "/api/blocks"): "global block list", ("GET", "/api/blocks/{id}"): "block ids are global",
    ("GET", "/api/workflows"): "own list", ("POST", "/api/workflows"): "block ids are global",
    ("GET", "/api/crm/people"): "own list", ("GET", "/api/crm/companies"): "own list",
    ("GET", "/api/crm/objects"): "own list", ("POST", "/api/crm/objects"): "creates in own workspace",
    ("POST", "/api/crm/companies"): "creates in own workspace",
    ("POST", "/api/launch-url"): "signs the caller's own principal",
    ("GET", "/"): "redirect", ("GET", "/login"): "takes a token (a credential, tested below), not an id",
    ("POST", "/login"): "takes a token, not an id", ("GET", "/launch"): "takes a signed launch token, not an id",
    ("GET", "/logout"): "no data", ("POST", "/logout"): "no data",
    ("GET", "/settings"): "own workspace", ("POST", "/settings/reconnect"): "own connection",
    ("GET", "/crm"): "own workspace", ("GET", "/crm/people"): "own list", ("GET", "/crm/companies"): "own list",
}


# Routes authenticated by a signature instead of a token: checked with A's secret on B's URL.
SIGNED_PATHS = {"/webhooks/stripe/{workspace_id}"}

# A valid body for the path-id routes that need one, so the id lookup is what answers.
VALID_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/crm/objects/{slug}/attributes"): {"slug": "intruder", "title": "Intruder", "type": "text"},
    ("POST", "/api/crm/objects/{slug}/records"): {"values": {"name": "Intruder"}},
    ("PATCH", "/api/crm/objects/{slug}/records/{id}"): {"values": {"name": "Intruder"}},
    ("PATCH", "/api/workflows/{id}"): {"name": "Intruder", "enabled": False},
}


def _invoice(obj: str, record_id: str, **extra: Any) -> dict[str, Any]:
    due = (date.today() + timedelta(days=30)).isoformat()
    return {"object": obj, "record_id": record_id, "due_date": due, "send_email": False,
            "line_items": [{"description": "Intrusion", "unit_amount": 100, "currency": "usd"}], **extra}


@dataclass
class Tenants:
    ctx: AppContext
    client: httpx.AsyncClient
    a: Seeded
    b: Seeded


@pytest.fixture
async def tenants(sctx: AppContext, sclient: httpx.AsyncClient, emulator: Any) -> AsyncIterator[Tenants]:
    seeded = []
    for tag in ("Alpha", "Bravo"):
        ws = await create_workspace(sctx.store, tag)
        seeded.append(await seed_workspace(sclient, sctx, emulator, tag, ws.admin_token, ws.operator_token,
                                           ws.workspace_id))
    yield Tenants(sctx, sclient, seeded[0], seeded[1])


def test_every_route_is_covered() -> None:
    problems = []
    for method, path in ROUTES:
        params = [p for p in _PARAM.findall(path) if (path, p) not in GLOBAL_PARAMS]
        if (method in ("POST", "PUT", "PATCH") and params and (method, path) not in VALID_BODIES
                and path not in SIGNED_PATHS):
            problems.append(f"{method} {path}: add a VALID_BODIES entry so the id, not the body, is judged")
        covered = (params and path in PATH_IDS) or (method, path) in BODY_IDS or (method, path) in NO_FOREIGN_IDS
        if params and path not in PATH_IDS:
            problems.append(f"{method} {path}: path parameter(s) {params} need a PATH_IDS entry")
        elif not covered:
            problems.append(f"{method} {path}: add it to BODY_IDS (takes ids) or NO_FOREIGN_IDS (say why)")
        if (method, path) in NO_FOREIGN_IDS and (params or (method, path) in BODY_IDS):
            problems.append(f"{method} {path}: takes ids, so it cannot be on the allow-list")
    served = set(ROUTES)
    stale = [" ".join(k) for k in (*BODY_IDS, *NO_FOREIGN_IDS, *VALID_BODIES) if k not in served]
    stale += [p for p in PATH_IDS if p not in {path for _, path in ROUTES}]
    assert not problems and not stale, "\n".join(problems + [f"no such route any more: {s}" for s in stale])


def _fill(path: str, values: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: values.get(m.group(1), "stripe.invoice_paid"), path)


def _assert_no_leak(b: Seeded, response: httpx.Response, what: str, sent: Any = None) -> None:
    """None of B's markers in the answer, except what the caller itself sent (echoed input)."""
    text, echoed = response.text, json.dumps(sent) if sent is not None else ""
    leaked = [m for m in b.markers if m in text and m not in echoed]
    assert not leaked, f"{what}: B's data in A's answer: {leaked}: {text[:300]}"


async def _call(t: Tenants, method: str, path: str, call: Call) -> httpx.Response:
    token = t.a.admin_token  # admin may do everything an operator may
    url = path + (f"?{urlencode(call.query)}" if call.query else "")
    kwargs: dict[str, Any] = {"headers": bearer(token)}
    if call.json is not None:
        kwargs["json"] = call.json
    return await t.client.request(method, url, **kwargs)


async def _b_state(t: Tenants) -> str:
    """Everything of B's an intruder could change, as one comparable string."""
    h = bearer(t.b.admin_token)
    parts = [
        (await t.client.get(f"/api/crm/people/{t.b.ids['person']}", headers=h)).text,
        (await t.client.get(f"/api/crm/companies/{t.b.ids['company']}", headers=h)).text,
        (await t.client.get(f"/api/crm/objects/{t.b.ids['object']}/records/{t.b.ids['record']}", headers=h)).text,
        (await t.client.get(f"/api/workflows/{t.b.ids['workflow']}", headers=h)).text,
        (await t.client.get(f"/api/jobs/{t.b.ids['job']}", headers=h)).json()["id"],
        (await t.client.get("/api/crm/people", headers=h)).json()["total"],
    ]
    async with t.ctx.store.connect() as conn:
        rows = (await conn.execute(select(block_activations.c.activation_id, block_activations.c.callback_url,
                                          block_activations.c.active)
                                   .where(block_activations.c.workspace_id == t.b.workspace_id))).all()
    parts.append(sorted(tuple(r) for r in rows))
    return json.dumps(parts, default=str)


async def test_a_cannot_reach_bs_ids_on_any_route(tenants: Tenants) -> None:
    t = tenants
    before = await _b_state(t)
    b_events = await stored_events(t.ctx, t.b.workspace_id)
    checked = 0
    for method, path in ROUTES:
        params = [p for p in _PARAM.findall(path) if (path, p) not in GLOBAL_PARAMS]
        calls: list[tuple[str, Call]] = []
        if path in SIGNED_PATHS:
            continue  # below
        if params:
            body = VALID_BODIES.get((method, path))
            calls += [(_fill(path, values), Call(json=body)) for values in PATH_IDS[path](t.b)]
        if (method, path) in BODY_IDS:
            concrete = _fill(path, {"id": "stripe.create_customer" if path.endswith("/execute") else "stripe.invoice_paid"})
            calls += [(concrete, c) for c in BODY_IDS[(method, path)](t.a, t.b)]
        for url, call in calls:
            response = await _call(t, method, url, call)
            what = f"{method} {url} {call}"
            assert response.status_code < 500, (what, response.status_code, response.text[:300])
            if call.kind == "not_found":
                assert response.status_code in (403, 404), (what, response.status_code, response.text[:300])
            elif call.kind == "refused":
                assert response.status_code in (403, 404, 422), (what, response.status_code, response.text[:300])
            _assert_no_leak(t.b, response, what, call.json)
            checked += 1
    assert checked >= len(PATH_IDS) + len(BODY_IDS)

    # The webhook takes no token: B's URL with A's signing secret is refused and stores nothing.
    body = json.dumps({"id": "evt_cross_tenant", "type": "invoice.paid", "created": 1,
                       "data": {"object": {"id": "in_x"}}}).encode()
    a_secret = await webhook_secret(t.ctx, t.a.workspace_id)
    response = await t.client.post(f"/webhooks/stripe/{t.b.workspace_id}", content=body,
                                   headers={"Stripe-Signature": sign(body, a_secret)})
    assert response.status_code == 400, response.text

    assert await _b_state(t) == before, "A's calls changed B's data"
    assert await stored_events(t.ctx, t.b.workspace_id) == b_events


TOKEN_ROUTES = [op for op in ROUTES if op in OPERATIONS and OPERATIONS[op].auth in ("admin", "operator", "page")]


async def test_tokens_on_every_route(sctx: AppContext, sclient: httpx.AsyncClient) -> None:
    """No token -> 401, garbage -> 401, operator on an admin route -> 403; pages answer 401 as HTML
    (or send you to sign in) and operators get 403 on the admin's settings page."""
    ws = await create_workspace(sctx.store, "Tokens")
    admin, operator = ws.admin_token, ws.operator_token
    garbage = ["Bearer nope", f"Bearer {admin}x", f"Bearer {admin[:-1]}", f"Basic {admin}", "Bearer",
               f"bearer  {operator[::-1]}", "Bearer \u00e9\u00e8", f"Token {admin}"]
    problems: list[str] = []
    for method, path in TOKEN_ROUTES:
        auth = OPERATIONS[(method, path)].auth
        url = _fill(path, {"id": "rec_x", "slug": "things", "job_id": "job_x"})
        body: Any = {} if method in ("POST", "PUT", "PATCH") else None
        answers = [("no token", await sclient.request(method, url, json=body))]
        for value in garbage:
            headers = {b"Authorization": value.encode("latin-1")}
            answers.append((value[:14], await sclient.request(method, url, headers=headers, json=body)))
        for name, response in answers:
            where = f"{method} {path} with {name!r}: {response.status_code} {response.text[:120]}"
            if auth == "page":
                if response.status_code not in (401, 303) or (
                        response.status_code == 303 and not response.headers["location"].startswith("/login")):
                    problems.append(where)
            elif response.status_code != 401 or response.json()["error"]["code"] != "unauthenticated":
                problems.append(where)
        if auth == "admin" or (method, path) == ("GET", "/settings"):
            response = await sclient.request(method, url, headers=bearer(operator), json=body)
            if response.status_code != 403 or (auth == "admin" and response.json()["error"]["code"] != "forbidden"):
                problems.append(f"{method} {path} with the operator token: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert len(TOKEN_ROUTES) >= 40

"""The OpenAPI 3.1 description of the HTTP API, generated from the routes themselves.

Paths come from the app's own route list, so a route cannot exist without appearing here. What a
route means (summary, role, request model, success status and shape) comes from `OPERATIONS`, one
entry per (method, path); request bodies and query parameters are the pydantic models the handlers
validate with (`model_json_schema`). A route without an entry is still described (path parameters,
bearer auth, error responses) and marked `x-undocumented`; tests/hostile/test_openapi.py fails on
it, and on an entry whose route is gone. Static files are left out (`EXCLUDED`); HTML pages are
described as `text/html`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from app.errors import ErrorCode
from app.http.connection_routes import ConnectRequest
from app.http.crm_routes import AttributeIn, CompanyIn, ObjectIn, PersonIn, ValuesIn
from app.http.invoice_routes import ContextQuery
from app.http.settings_routes import SchemaSetupRequest, SettingsPatch
from app.invoicing.models import CreateInvoiceRequest, CreateInvoiceResult
from blocks.activations import ActivateRequest, DeactivateRequest
from blocks.executions import ExecuteRequest
from blocks.registry import BLOCKS
from blocks.validation import WorkflowSpec
from blocks.workflows import WorkflowPatch
from schema_mapping.setup import SchemaReport

Auth = Literal["admin", "operator", "public", "signature", "page"]
JSON = "application/json"
HTML = "text/html"
REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


@dataclass(frozen=True)
class Op:
    """One operation: `auth` is who may call it (`page`: bearer or page session, answers HTML);
    `response` is the JSON Schema of the success body; `stripe` marks calls that reach Stripe
    (409 when not connected, 502/503 when Stripe is unavailable)."""

    summary: str
    auth: Auth
    tag: str
    body: type[BaseModel] | dict[str, Any] | None = None
    body_media: str = JSON
    body_required: bool = True
    query: type[BaseModel] | dict[str, dict[str, Any]] | None = None
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    response: type[BaseModel] | dict[str, Any] | None = None
    media: str = JSON
    errors: tuple[int, ...] = ()
    html_errors: tuple[int, ...] = ()
    stripe: bool = False
    path_enums: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _obj(required: Sequence[str] = (), **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}
_NSTR = {"type": ["string", "null"]}
_ANY_OBJ: dict[str, Any] = {"type": "object"}
_DATA = {"type": "array", "items": _ANY_OBJ}

# Success bodies without a pydantic model of their own (hand-written from the handlers).
_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _obj(["error"], error=_obj(
        ["code", "message", "fields"],
        code={"type": "string", "enum": [c.value for c in ErrorCode]},
        message=_STR,
        fields={"type": "object", "additionalProperties": True},
    )),
    "BlockFailure": _obj(["execution_id", "error"], execution_id=_STR, error=_obj(
        ["code", "message", "retryable"], code=_STR, message=_STR, retryable=_BOOL, fields=_ANY_OBJ)),
    "Connection": _obj(
        ["connected", "missing_permissions", "webhook"],
        connected=_BOOL, mode={"enum": ["sandbox", "production"]},
        key={"type": "string", "description": "masked: `sk_test_…abcd`, never the key"},
        account=_NSTR, livemode=_BOOL, connected_at=_STR,
        missing_permissions={"type": "array", "items": _STR}, missing_permissions_detail={"type": "array"},
        webhook=_obj(["registered"], registered=_BOOL),
    ),
    "Health": _obj(
        ["connection", "missing_permissions", "webhook", "schema", "sync_enabled", "backfill"],
        connection=_obj(["connected"], connected=_BOOL), missing_permissions={"type": "array", "items": _STR},
        webhook=_obj(["registered"], registered=_BOOL), schema=_ANY_OBJ, sync_enabled=_BOOL,
        auto_create_people=_BOOL, backfill={"type": ["object", "null"]},
    ),
    "Settings": _obj(["sync_enabled", "auto_create_people", "schema"],
                     sync_enabled=_BOOL, auto_create_people=_BOOL, schema=_ANY_OBJ),
    "Job": _obj(["id", "kind", "status", "counts", "error"], id=_STR, kind=_STR, status=_STR,
                cursor=_NSTR, pages=_INT, counts=_ANY_OBJ, error=_NSTR),
    "JobStarted": _obj(["job_id", "already_running"], job_id=_STR, already_running=_BOOL),
    "Requeued": _obj(["requeued"], requeued=_INT),
    "Person": _obj(["id", "object", "name", "email", "emails", "company_id"], id=_STR, object={"const": "people"},
                   name=_NSTR, email=_NSTR, emails={"type": "array", "items": _STR}, company_id=_NSTR,
                   values=_ANY_OBJ),
    "Company": _obj(["id", "object", "name"], id=_STR, object={"const": "companies"}, name=_NSTR,
                    domain=_NSTR, main_contact_id=_NSTR, people={"type": "array", "items": _ref("Person")},
                    values=_ANY_OBJ),
    "Attribute": _obj(["slug", "title", "type", "unique"], slug=_STR, title=_STR, type=_STR, unique=_BOOL,
                      options={"type": "array", "items": _STR}, target_object=_NSTR),
    "CrmObject": _obj(["slug", "singular", "plural"], slug=_STR, singular=_STR, plural=_STR,
                      attributes={"type": "array", "items": _ref("Attribute")}),
    "Record": _obj(["id", "object", "values"], id=_STR, object=_STR, values=_ANY_OBJ),
    "Page": _obj(["data", "total", "limit", "offset"], data=_DATA, total=_INT, limit=_INT, offset=_INT),
    "List": _obj(["data"], data=_DATA),
    "Workflow": _obj(["id", "name", "enabled", "trigger", "steps"], id=_STR, name=_STR, enabled=_BOOL,
                     trigger=_obj(["block_id", "config"], block_id=_STR, config=_ANY_OBJ),
                     steps={"type": "array", "items": _ANY_OBJ}, webhook_warning=_STR),
    "Deleted": _obj(["id", "deleted"], id=_STR, deleted={"const": True}),
    "Block": _obj(["id", "kind", "config_schema", "outcome_schema"], id=_STR, kind={"enum": ["trigger", "step"]},
                  title=_STR, description=_STR, config_schema=_ANY_OBJ, outcome_schema=_ANY_OBJ),
    "Executed": _obj(["execution_id", "outcome"], execution_id=_STR, outcome={}),
    "Activation": _obj(["activation_id", "block_id", "active"], activation_id=_STR, block_id=_STR, active=_BOOL,
                       callback_url=_STR, config=_ANY_OBJ, secret=_STR, was_active=_BOOL),
    "InvoiceContext": _obj(["object", "record", "recipients"], object=_STR, record=_ANY_OBJ,
                           recipients={"type": "array", "items": _ANY_OBJ}),
    "WebhookReceived": _obj(["received", "event_id", "duplicate"], received={"const": True}, event_id=_STR,
                            duplicate=_BOOL),
    "LaunchUrl": _obj(["url", "expires_in"], url=_STR, expires_in=_INT),
    "Status": _obj(["status"], status=_STR),
    "Ready": _obj(["status", "checks"], status={"enum": ["ready", "not_ready"]}, checks=_ANY_OBJ),
    "LaunchRequest": _obj([], next={"type": "string", "description": "a path on this site, e.g. /crm"}),
    "LoginForm": _obj(["token"], token=_STR, next=_STR),
}

_CRUD = "CRM (embedded, local backend only)"
_STEP_IDS = tuple(b.id for b in BLOCKS.values() if b.kind == "step")
_TRIGGER_IDS = tuple(b.id for b in BLOCKS.values() if b.kind == "trigger")
_PAGING = {"limit": {"type": "integer", "minimum": 1, "maximum": 500},
           "offset": {"type": "integer", "minimum": 0}}

# (method, path) -> what it is. The routes decide which of these are served; the drift test keeps
# the two in step.
OPERATIONS: dict[tuple[str, str], Op] = {
    # -- system
    ("GET", "/healthz"): Op("Liveness", "public", "system", response=_ref("Status")),
    ("GET", "/readyz"): Op("Readiness (store, queue)", "public", "system", response=_ref("Ready"), errors=(503,)),
    ("GET", "/metrics"): Op("Prometheus metrics", "public", "system", media="text/plain"),
    ("GET", "/manifest.json"): Op("What the app registers with a CRM host", "public", "system", response=_ANY_OBJ),
    ("GET", "/openapi.json"): Op("This description", "public", "system", response=_ANY_OBJ),
    # -- connection and settings (admin)
    ("PUT", "/api/connection"): Op("Connect a Stripe key (checked, probed, stored encrypted)", "admin",
                                   "connection", body=ConnectRequest, response=_ref("Connection"), stripe=True),
    ("DELETE", "/api/connection"): Op("Disconnect: remove the webhook endpoint, erase the key", "admin",
                                      "connection", response=_obj(["connected"], connected={"const": False}),
                                      stripe=True),
    ("GET", "/api/health"): Op("Connection, webhook, schema and backfill health", "admin", "settings",
                               response=_ref("Health")),
    ("GET", "/api/settings"): Op("Sync settings and schema mapping", "admin", "settings", response=_ref("Settings")),
    ("PATCH", "/api/settings"): Op("Change sync settings or schema mapping", "admin", "settings",
                                   body=SettingsPatch, response=_ANY_OBJ, stripe=True),
    ("POST", "/api/schema/setup"): Op("Create or reuse the invoice object; add missing attributes", "admin",
                                      "settings", body=SchemaSetupRequest, body_required=False,
                                      response=SchemaReport, errors=(409,)),
    ("POST", "/api/sync/retry-failed"): Op("Re-queue failed webhook events", "admin", "sync",
                                           response=_ref("Requeued")),
    # -- record actions (operator)
    ("GET", "/api/actions/create-invoice/context"): Op("Recipients and catalog for the dialog", "operator",
                                                       "invoicing", query=ContextQuery, errors=(404,),
                                                       response=_ref("InvoiceContext"), stripe=True),
    ("POST", "/api/actions/create-invoice"): Op(
        "Create (and optionally send) a Stripe invoice for a person or company", "operator", "invoicing",
        body=CreateInvoiceRequest, status=201, response=CreateInvoiceResult, stripe=True, errors=(404,),
        headers={"Idempotency-Key": {"type": "string", "pattern": "^[A-Za-z0-9_\\-]{8,100}$"}}),
    ("POST", "/api/actions/sync-invoices"): Op("Start a backfill of the invoice history", "operator", "sync",
                                               status=202, response=_ref("JobStarted"), stripe=True),
    ("GET", "/api/jobs/{job_id}"): Op("A background job's status, counts and cursor", "operator", "sync",
                                      response=_ref("Job")),
    # -- webhook
    ("POST", "/webhooks/stripe/{workspace_id}"): Op(
        "Stripe event intake (verified on the raw bytes)", "signature", "webhooks", body=_ANY_OBJ,
        headers={"Stripe-Signature": {"type": "string"}}, response=_ref("WebhookReceived")),
    # -- blocks (operator)
    ("GET", "/api/blocks"): Op("Every block with its config and outcome schemas", "operator", "blocks",
                               response=_ref("List")),
    ("GET", "/api/blocks/{id}"): Op("One block", "operator", "blocks", response=_ref("Block"),
                                    path_enums={"id": tuple(BLOCKS)}),
    ("POST", "/api/blocks/{id}/execute"): Op(
        "Run a step block once per execution id", "operator", "blocks", body=ExecuteRequest,
        response=_ref("Executed"), path_enums={"id": _STEP_IDS}, stripe=True),
    ("POST", "/api/blocks/{id}/activate"): Op("Activate a trigger with a callback URL", "operator", "blocks",
                                              body=ActivateRequest, response=_ref("Activation"),
                                              path_enums={"id": _TRIGGER_IDS}, errors=(409,)),
    ("POST", "/api/blocks/{id}/deactivate"): Op("Deactivate a trigger", "operator", "blocks",
                                                body=DeactivateRequest, response=_ref("Activation"),
                                                path_enums={"id": _TRIGGER_IDS}),
    # -- workflows (admin)
    ("GET", "/api/workflows"): Op("Workflows", "admin", "workflows", response=_ref("List")),
    ("POST", "/api/workflows"): Op("Create a workflow: one trigger, ordered steps", "admin", "workflows",
                                   body=WorkflowSpec, status=201, response=_ref("Workflow")),
    ("GET", "/api/workflows/{id}"): Op("One workflow", "admin", "workflows", response=_ref("Workflow")),
    ("PATCH", "/api/workflows/{id}"): Op("Rename, enable or disable a workflow", "admin", "workflows",
                                         body=WorkflowPatch, response=_ref("Workflow")),
    ("DELETE", "/api/workflows/{id}"): Op("Delete a workflow", "admin", "workflows", response=_ref("Deleted")),
    ("GET", "/api/workflows/{id}/runs"): Op("A workflow's run history", "admin", "workflows",
                                            query={"limit": {"type": "integer", "minimum": 1, "maximum": 200}},
                                            response=_ref("List")),
    # -- embedded CRM (operator)
    ("GET", "/api/crm/people"): Op("People", "operator", _CRUD, query=_PAGING, response=_ref("Page")),
    ("POST", "/api/crm/people"): Op("Create a person (optionally in a company of this workspace)", "operator",
                                    _CRUD, body=PersonIn, status=201, response=_ref("Person"), errors=(404, 409)),
    ("GET", "/api/crm/people/{id}"): Op("One person", "operator", _CRUD, response=_ref("Person")),
    ("GET", "/api/crm/companies"): Op("Companies", "operator", _CRUD, query=_PAGING, response=_ref("Page")),
    ("POST", "/api/crm/companies"): Op("Create a company", "operator", _CRUD, body=CompanyIn, status=201,
                                       response=_ref("Company"), errors=(409,)),
    ("GET", "/api/crm/companies/{id}"): Op("One company with its people", "operator", _CRUD,
                                           response=_ref("Company")),
    ("GET", "/api/crm/objects"): Op("Objects", "operator", _CRUD, response=_ref("List")),
    ("POST", "/api/crm/objects"): Op("Create an object", "operator", _CRUD, body=ObjectIn, status=201,
                                     response=_ref("CrmObject"), errors=(409,)),
    ("GET", "/api/crm/objects/{slug}"): Op("One object with its attributes", "operator", _CRUD,
                                           response=_ref("CrmObject")),
    ("GET", "/api/crm/objects/{slug}/attributes"): Op("An object's attributes", "operator", _CRUD,
                                                      response=_ref("List")),
    ("POST", "/api/crm/objects/{slug}/attributes"): Op("Add an attribute", "operator", _CRUD, body=AttributeIn,
                                                       status=201, response=_ref("Attribute"), errors=(409,)),
    ("GET", "/api/crm/objects/{slug}/records"): Op("An object's records", "operator", _CRUD, query=_PAGING,
                                                   response=_ref("Page")),
    ("POST", "/api/crm/objects/{slug}/records"): Op("Create a record", "operator", _CRUD, body=ValuesIn,
                                                    status=201, response=_ref("Record"), errors=(409,)),
    ("GET", "/api/crm/objects/{slug}/records/{id}"): Op("One record", "operator", _CRUD, response=_ref("Record")),
    ("PATCH", "/api/crm/objects/{slug}/records/{id}"): Op("Update a record's values", "operator", _CRUD,
                                                          body=ValuesIn, response=_ref("Record"), errors=(409,)),
    # -- page sessions
    ("POST", "/api/launch-url"): Op("A short-lived URL that opens a page as the caller", "operator", "pages",
                                    body=_ref("LaunchRequest"), body_required=False, response=_ref("LaunchUrl")),
    ("GET", "/"): Op("Landing: redirects to the right page", "public", "pages", status=303, media=""),
    ("GET", "/login"): Op("Sign-in page (a token in the query is exchanged for a session)", "public", "pages",
                          query={"token": _STR, "next": _STR}, media=HTML, errors=(303,), html_errors=(401,)),
    ("POST", "/login"): Op("Exchange a token for a page session", "public", "pages", body=_ref("LoginForm"),
                           body_media="application/x-www-form-urlencoded", status=303, media="",
                           errors=(413,), html_errors=(401,)),
    ("GET", "/launch"): Op("Open a page from a launch URL", "public", "pages", query={"s": _STR}, status=303,
                           media="", html_errors=(401,)),
    ("GET", "/logout"): Op("End the page session", "public", "pages", status=303, media=""),
    ("POST", "/logout"): Op("End the page session", "public", "pages", status=303, media=""),
    # -- pages (HTML; bearer or page session)
    ("GET", "/settings"): Op("Settings panel", "page", "pages", media=HTML, errors=(303,)),
    ("POST", "/settings/reconnect"): Op("Connect again with the stored key", "admin", "pages",
                                        response=_ref("Connection"), stripe=True),
    ("GET", "/actions/create-invoice"): Op("Create Invoice dialog", "page", "pages", media=HTML, stripe=True,
                                           query={"object": {"enum": ["people", "companies"]}, "record_id": _STR,
                                                  "embed": {"enum": ["0", "1"]}}),
    ("GET", "/crm"): Op("CRM overview", "page", "pages", media=HTML),
    ("GET", "/crm/people"): Op("People list", "page", "pages", media=HTML, query={"page": _INT}),
    ("GET", "/crm/companies"): Op("Company list", "page", "pages", media=HTML, query={"page": _INT}),
    ("GET", "/crm/people/{id}"): Op("A person's page", "page", "pages", media=HTML),
    ("GET", "/crm/companies/{id}"): Op("A company's page", "page", "pages", media=HTML),
    ("GET", "/crm/objects/{slug}"): Op("An object's record list", "page", "pages", media=HTML, query={"page": _INT},
                                       errors=(307,)),
    ("GET", "/crm/objects/{slug}/{id}"): Op("A record's page", "page", "pages", media=HTML, errors=(307,)),
}

# Routes left out of the description on purpose: static files.
EXCLUDED: dict[tuple[str, str], str] = {
    ("GET", "/crm/assets/{name}"): "static file (CRM page stylesheet and script)",
}


def route_operations(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """(method, path) for every HTTP route, HEAD left out (Starlette adds it to every GET);
    mounted static files are left out, any other mount is walked."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Route):
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    found.append((method, route.path))
        elif isinstance(route, Mount):
            if isinstance(route.app, StaticFiles):
                continue
            found.extend((m, route.path + p) for m, p in route_operations(route.routes))
        else:
            found.append(("*", getattr(route, "path", repr(route))))
    return found


def drift(routes: Iterable[BaseRoute]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(routes without an entry, entries without a route)."""
    served = set(route_operations(routes))
    undocumented = sorted(op for op in served if op not in OPERATIONS and op not in EXCLUDED)
    orphaned = sorted(op for op in (*OPERATIONS, *EXCLUDED) if op not in served)
    return undocumented, orphaned


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for op in OPERATIONS.values():
        for part in (op.body, op.response, op.query):
            if isinstance(part, type) and issubclass(part, BaseModel) and part not in found:
                found.append(part)
    return found


def _component_schemas() -> dict[str, Any]:
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, "serialization" if m in (CreateInvoiceResult, SchemaReport) else "validation") for m in _models()]
    _, defs = models_json_schema(pairs, ref_template=REF)
    return {**defs.get("$defs", {}), **_SCHEMAS}


def _schema_of(part: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    return _ref(part.__name__) if isinstance(part, type) else part


def _error(description: str, media: str = JSON) -> dict[str, Any]:
    if media == JSON:
        return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}
    return {"description": description, "content": {HTML: {"schema": _STR}}}


_REASONS = {
    303: "Redirect (to the sign-in page or the next page)",
    307: "Redirect to the canonical page",
    400: "Malformed body (not JSON, or a bad webhook signature)",
    401: "Missing, unknown or revoked token",
    403: "The token's role may not do this (or a page session without its CSRF token)",
    404: "Not found in this workspace",
    409: "Conflict (not connected to Stripe, already exists, or schema conflicts)",
    413: "Body too large",
    422: "Invalid request: `fields` names each problem",
    502: "Stripe is unavailable; retry later",
    503: "Rate limited or temporarily unavailable; retry later",
}


def _query_params(query: type[BaseModel] | dict[str, dict[str, Any]] | None) -> list[dict[str, Any]]:
    if query is None:
        return []
    if isinstance(query, dict):
        return [{"name": n, "in": "query", "required": False, "schema": s} for n, s in query.items()]
    schema = query.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [{"name": n, "in": "query", "required": n in required, "schema": s}
            for n, s in schema.get("properties", {}).items()]


def _operation(method: str, path: str, op: Op | None) -> dict[str, Any]:
    params = _PARAM.findall(path)
    if op is None:  # a route nobody described yet: still fuzzable, and the drift test fails
        op = Op(f"{method} {path} (undocumented)", "operator", "undocumented", response=_ANY_OBJ)
    media = op.media
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True,
         "schema": {"type": "string", "enum": list(op.path_enums[p])} if p in op.path_enums
         else {"type": "string", "minLength": 1, "maxLength": 200}}
        for p in params
    ]
    parameters += _query_params(op.query)
    parameters += [{"name": n, "in": "header", "required": op.auth == "signature", "schema": s}
                   for n, s in op.headers.items()]

    success: dict[str, Any] = {"description": op.summary}
    if media == JSON:
        success["content"] = {JSON: {"schema": _schema_of(op.response) if op.response is not None else _ANY_OBJ}}
    elif media:
        success["content"] = {media: {"schema": _STR}}
    responses: dict[str, Any] = {str(op.status): success}

    statuses = set(op.errors) | set(op.html_errors)
    if op.tag == _CRUD:
        statuses |= {404}  # also: the embedded CRM is not served with another CRM backend
    if op.auth in ("admin", "operator"):
        statuses |= {401, 403}
    if op.auth == "page":
        statuses |= {401, 403, 404, 422}
    if op.body is not None:
        statuses |= {400, 413, 422}
    if op.query is not None and op.auth != "page":
        statuses |= {422}
    if params:
        statuses |= {404}
    if op.path_enums:
        statuses |= {422}
    if op.stripe:
        statuses |= {409, 422, 502, 503}
    if op.auth == "signature":
        statuses |= {400, 404, 413, 422}
    for status in sorted(statuses - {op.status}):
        if status in (303, 307):
            responses[str(status)] = {"description": _REASONS[status]}
        elif op.auth == "page" or status in op.html_errors:
            responses[str(status)] = _error(_REASONS[status], HTML)
        else:
            responses[str(status)] = _error(_REASONS[status])
    if method == "POST" and path == "/api/blocks/{id}/execute":
        # The block's own failure: 422 when a retry cannot help, 503 when it can.
        failure = {"anyOf": [_ref("Error"), _ref("BlockFailure")]}
        responses["422"]["content"][JSON]["schema"] = failure
        responses["503"]["content"][JSON]["schema"] = failure

    out: dict[str, Any] = {
        "operationId": _operation_id(method, path),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
        "security": _security(op.auth),
        "x-role": op.auth,
    }
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required, "content": {op.body_media: {"schema": _schema_of(op.body)}}}
    if op.tag == "undocumented":
        out["x-undocumented"] = True
    return out


def _security(auth: Auth) -> list[dict[str, list[str]]]:
    if auth in ("admin", "operator"):
        return [{"bearerAuth": []}]
    if auth == "page":
        return [{"bearerAuth": []}, {"pageSession": []}]
    return []


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", path.replace("{", "by_").replace("}", "")).strip("_") or "root"
    return f"{method.lower()}_{words}"


def _version() -> str:
    try:
        return metadata.version("stripe-invoicing-crm")
    except metadata.PackageNotFoundError:
        return "0"


def build_openapi(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for exactly these routes."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in route_operations(routes):
        if (method, path) in EXCLUDED or method == "*":
            continue
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, OPERATIONS.get((method, path)))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stripe Invoicing for the CRM",
            "version": _version(),
            "description": "Every call is workspace-scoped: the bearer token names the workspace and the role "
                           "(`admin` or `operator`; `x-role` on each operation). Errors are "
                           "`{\"error\": {code, message, fields}}`.",
        },
        "paths": paths,
        "components": {
            "schemas": _component_schemas(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A workspace token (admin or operator)."},
                "pageSession": {"type": "apiKey", "in": "cookie", "name": "invoicing_session",
                                "description": "The signed page session set by /login or /launch."},
            },
        },
    }

"""GET /openapi.json: valid OpenAPI 3.1, generated from the routes, and kept in step with them (a
route without an entry, or an entry without a route, fails here)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import schemathesis
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.http.app import _collect_routes
from app.http.connection_routes import ConnectRequest
from app.http.openapi import EXCLUDED, OPERATIONS, build_openapi, drift, route_operations
from app.http.settings_routes import SettingsPatch
from app.invoicing.models import CreateInvoiceRequest
from blocks.registry import BLOCKS
from blocks.validation import WorkflowSpec


def test_every_route_has_an_entry_and_every_entry_a_route() -> None:
    undocumented, orphaned = drift(_collect_routes())
    assert not undocumented, f"routes without an OPERATIONS entry in app/http/openapi.py: {undocumented}"
    assert not orphaned, f"OPERATIONS/EXCLUDED entries whose route is gone: {orphaned}"


async def _endpoint(request: Request) -> Response:
    return Response()


def test_the_drift_check_notices_a_new_route_and_a_removed_one() -> None:
    routes = [*_collect_routes(), Route("/api/invoices/{invoice_id}/refund", _endpoint, methods=["POST"])]
    undocumented, orphaned = drift(routes)
    assert undocumented == [("POST", "/api/invoices/{invoice_id}/refund")] and orphaned == []
    doc = build_openapi(routes)
    new = doc["paths"]["/api/invoices/{invoice_id}/refund"]["post"]
    assert new["x-undocumented"] is True  # still described (fuzzable), and flagged
    assert [p["name"] for p in new["parameters"]] == ["invoice_id"]
    kept = [r for r in _collect_routes() if getattr(r, "path", None) != "/api/jobs/{job_id}"]
    assert drift(kept) == ([], [("GET", "/api/jobs/{job_id}")])


async def test_served_document_is_valid_openapi_31(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc).validate()  # the OAS 3.1 meta-schema
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    served = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert served == {op for op in route_operations(_collect_routes()) if op not in EXCLUDED}


def _op(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"][path][method.lower()]
    return operation


def _body_ref(doc: dict[str, Any], method: str, path: str) -> str:
    content = _op(doc, method, path)["requestBody"]["content"]
    ref: str = content["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def test_request_bodies_are_the_handlers_models() -> None:
    doc = build_openapi(_collect_routes())
    schemas = doc["components"]["schemas"]
    models: dict[tuple[str, str], type[BaseModel]] = {
        ("PUT", "/api/connection"): ConnectRequest, ("PATCH", "/api/settings"): SettingsPatch,
        ("POST", "/api/actions/create-invoice"): CreateInvoiceRequest, ("POST", "/api/workflows"): WorkflowSpec}
    for (method, path), model in models.items():
        name = _body_ref(doc, method, path)
        assert name == model.__name__
        assert set(schemas[name]["properties"]) == set(model.model_json_schema(by_alias=True)["properties"])
    assert set(schemas["SettingsPatch"]["properties"]) == {"sync_enabled", "auto_create_people", "schema"}
    assert schemas["ConnectRequest"]["properties"]["mode"]["enum"] == ["sandbox", "production"]


def test_security_errors_and_path_parameters() -> None:
    doc = build_openapi(_collect_routes())
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A workspace token (admin or operator)."}
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            role = OPERATIONS[(method.upper(), path)].auth
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), (method, path)
            if role in ("admin", "operator"):
                assert operation["security"] == [{"bearerAuth": []}], (method, path)
                for status in ("401", "403"):
                    schema = operation["responses"][status]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            if role == "page":
                success = operation["responses"]["200"]
                assert list(success["content"]) == ["text/html"], (method, path)
    assert "/static" not in " ".join(doc["paths"]) and "/crm/assets/{name}" not in doc["paths"]
    assert _op(doc, "POST", "/webhooks/stripe/{workspace_id}")["security"] == []
    steps = [b.id for b in BLOCKS.values() if b.kind == "step"]
    assert _op(doc, "POST", "/api/blocks/{id}/execute")["parameters"][0]["schema"]["enum"] == steps

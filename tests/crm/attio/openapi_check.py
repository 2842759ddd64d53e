"""Check Attio requests and responses against the trimmed OpenAPI description.

`OpenAPICheck.load()` reads `tests/data/attio/openapi-trimmed.json` (never ../shared). It finds
the operation for a method and a concrete path, then validates path and query parameters, the
bearer header and the JSON body of a request, or the JSON body of a response for its status.
Stricter than the description where its own prose says more (see tests/data/attio/README.md):
record values are arrays of `input-value` on write and of `output-value` on read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SPEC_FILE = Path(__file__).resolve().parents[2] / "data" / "attio" / "openapi-trimmed.json"

# The error shape every documented Attio error uses; for statuses the description leaves out.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status_code": {"type": "number"},
        "type": {"type": "string"},
        "code": {"type": "string"},
        "message": {"type": "string"},
    },
    "required": ["status_code", "type", "code", "message"],
}
_RECORD_WRITES = {("POST", "/v2/objects/{object}/records"), ("PUT", "/v2/objects/{object}/records")}


class SpecViolation(AssertionError):
    """A request or response that Attio's description does not allow."""


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    path_params: dict[str, str]
    spec: dict[str, Any]


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$")


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind in ("integer", "number"):
        try:
            return int(value)
        except ValueError:
            return value
    return value


class OpenAPICheck:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._components = document["components"]
        self._templates = sorted(
            ((t, _template_regex(t)) for t in document["paths"]),
            # Prefer literal segments: `/records/query` over `/records/{record_id}`.
            key=lambda item: -len(re.sub(r"\{[^}]+\}", "", item[0])),
        )

    @classmethod
    def load(cls) -> OpenAPICheck:
        return cls(json.loads(SPEC_FILE.read_text()))

    # -- schemas -------------------------------------------------------------------------------

    def validate(self, instance: Any, schema: dict[str, Any], what: str) -> None:
        root = {"$id": "urn:attio-openapi", "components": self._components, **schema}
        validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise SpecViolation(f"{what}: at {where}: {error.message}")

    def schema(self, name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    # -- operations ----------------------------------------------------------------------------

    def match(self, method: str, path: str) -> Operation:
        method = method.upper()
        for template, regex in self._templates:
            found = regex.match(path)
            if found is None:
                continue
            operations = self.document["paths"][template]
            if method.lower() not in operations:
                continue
            return Operation(method, template, found.groupdict(), operations[method.lower()])
        raise SpecViolation(f"{method} {path} is not an operation of the trimmed Attio description")

    def check_request(self, request: httpx.Request) -> tuple[Operation, Any]:
        """Validates everything about `request`; returns its operation and decoded JSON body."""
        op = self.match(request.method, request.url.path)
        what = f"{op.method} {op.template}"
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
            raise SpecViolation(f"{what}: no bearer token")
        params = op.spec.get("parameters", [])
        for param in params:
            name, location, schema = param["name"], param["in"], param["schema"]
            if location == "path":
                self.validate(op.path_params[name], schema, f"{what}: path parameter {name}")
            elif location == "query":
                if name in request.url.params:
                    value = _coerce(request.url.params[name], schema)
                    self.validate(value, schema, f"{what}: query parameter {name}")
                elif param.get("required"):
                    raise SpecViolation(f"{what}: query parameter {name} is required")
        known = {p["name"] for p in params if p["in"] == "query"}
        unknown = set(request.url.params.keys()) - known
        if unknown:
            raise SpecViolation(f"{what}: undocumented query parameters {sorted(unknown)}")
        body_spec = op.spec.get("requestBody")
        if body_spec is None:
            if request.content:
                raise SpecViolation(f"{what}: takes no body")
            return op, None
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            raise SpecViolation(f"{what}: body must be application/json")
        body = json.loads(request.content) if request.content else None
        if body is None and body_spec.get("required"):
            raise SpecViolation(f"{what}: body is required")
        self.check_request_body(op.method, op.template, body)
        return op, body

    def check_request_body(self, method: str, template: str, body: Any) -> None:
        op = self.document["paths"][template][method.lower()]
        what = f"{method} {template} request"
        self.validate(body, op["requestBody"]["content"]["application/json"]["schema"], what)
        if (method, template) in _RECORD_WRITES:
            for slug, items in body["data"]["values"].items():
                self.validate(
                    items,
                    {"type": "array", "items": self.schema("input-value")},
                    f"{what}: values.{slug}",
                )

    def check_response(self, method: str, template: str, status: int, body: Any) -> None:
        op = self.document["paths"][template][method.lower()]
        what = f"{method} {template} {status} response"
        response = op.get("responses", {}).get(str(status))
        if response is None:
            if status < 400:
                raise SpecViolation(f"{what}: status not described")
            self.validate(body, ERROR_SCHEMA, what)
            return
        self.validate(body, response["content"]["application/json"]["schema"], what)
        if status == 200 and "/records" in template:
            records = body["data"] if isinstance(body["data"], list) else [body["data"]]
            for record in records:
                for slug, items in record["values"].items():
                    self.validate(
                        items,
                        {"type": "array", "items": self.schema("output-value")},
                        f"{what}: values.{slug}",
                    )

"""Regenerate `openapi-trimmed.json` from Attio's full OpenAPI description (run by hand).

    python tests/data/attio/trim_openapi.py path/to/attio-openapi.json

Keeps exactly the operations the Attio adapter calls and the component schemas they reference
(transitively), drops the `x-codeSamples`. Tests read only the trimmed copy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS: dict[str, tuple[str, ...]] = {
    "/v2/objects": ("get", "post"),
    "/v2/objects/{object}": ("get",),
    "/v2/{target}/{identifier}/attributes": ("get", "post"),
    "/v2/{target}/{identifier}/attributes/{attribute}/options": ("get", "post"),
    "/v2/objects/{object}/records": ("post", "put"),
    "/v2/objects/{object}/records/query": ("post",),
    "/v2/objects/{object}/records/{record_id}": ("get",),
}
PREFIX = "#/components/schemas/"


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k != "x-codeSamples"}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(PREFIX):
            found.add(ref[len(PREFIX) :])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def trim(full: dict[str, Any]) -> dict[str, Any]:
    paths = {
        path: {method: _strip(full["paths"][path][method]) for method in methods}
        for path, methods in OPERATIONS.items()
    }
    schemas = full["components"]["schemas"]
    needed: set[str] = set()
    _refs(paths, needed)
    while True:
        more: set[str] = set()
        for name in needed:
            _refs(schemas[name], more)
        if more <= needed:
            break
        needed |= more
    return {
        "openapi": full["openapi"],
        "info": {
            **full["info"],
            "x-trimmed-from": "github.com/d-stoll/attio-js openapi.json, commit 61e77e4 (MIT, Daniel Stoll)",
        },
        "servers": full["servers"],
        "security": full["security"],
        "components": {
            "securitySchemes": full["components"]["securitySchemes"],
            "schemas": {name: _strip(schemas[name]) for name in sorted(needed)},
        },
        "paths": paths,
    }


def main(source: str) -> None:
    full = json.loads(Path(source).read_text())
    out = Path(__file__).with_name("openapi-trimmed.json")
    out.write_text(json.dumps(trim(full), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])

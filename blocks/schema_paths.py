"""Does a JSON Schema (as pydantic writes it) have a value at a dotted path? Used at save time to
refuse a template that points at an output a block never produces."""

from __future__ import annotations

from typing import Any

_ANY: dict[str, Any] = {}


def _deref(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in node and seen < 20:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        node = root.get("$defs", {}).get(name, _ANY)
        seen += 1
    return node


def _branches(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    node = _deref(node, root)
    options = node.get("anyOf") or node.get("oneOf") or node.get("allOf")
    if options:
        out: list[dict[str, Any]] = []
        for option in options:
            out.extend(_branches(option, root))
        return [o for o in out if o.get("type") != "null"] or out
    return [node]


def _fields(node: dict[str, Any]) -> list[str]:
    return sorted(node.get("properties", {}))


def _step(node: dict[str, Any], segment: str) -> dict[str, Any] | None:
    """The schema of `node[segment]`, or None when it cannot have one."""
    kind = node.get("type")
    if kind is None and "properties" not in node and "items" not in node:
        return _ANY  # unconstrained (Any): whatever is inside is allowed
    if "properties" in node or kind == "object":
        props: dict[str, Any] = node.get("properties", {})
        if segment in props:
            return dict(props[segment])
        extra = node.get("additionalProperties", not props)  # a model without the key is closed
        if extra is True:
            return _ANY
        return dict(extra) if isinstance(extra, dict) else None
    if kind == "array" and segment.isdigit():
        items = node.get("items", _ANY)
        return dict(items) if isinstance(items, dict) else _ANY
    return None


def check_path(schema: dict[str, Any], path: tuple[str, ...]) -> str | None:
    """None when `path` exists in `schema`; else why not, naming the field and what is there."""
    nodes = _branches(schema, schema)
    walked: list[str] = []
    for segment in path:
        following = [n for n in (_step(node, segment) for node in nodes) if n is not None]
        if not following:
            where = ".".join(walked) or "the outcome"
            available = sorted({f for node in nodes for f in _fields(node)})
            if available:
                return f"'{segment}' is not a field of {where} (it has: {', '.join(available)})"
            kinds = sorted({str(node.get("type", "value")) for node in nodes})
            return f"{where} is a {'/'.join(kinds)}, so it has no field '{segment}'"
        nodes = [b for n in following for b in _branches(n, schema)]
        walked.append(segment)
    return None

"""Stripe's form encoding (`a[b][0][c]=v`) to nested dicts/lists, and typed, validated access."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from app.sandbox.errors import StripeError, invalid_param, missing_param, unknown_param

_KEY_PART = re.compile(r"\[([^\]]*)\]")
_INT = re.compile(r"-?\d+")

# Keys accepted everywhere; stripe-python may add them to any request.
GLOBAL_PARAMS = frozenset({"expand"})


def _split_key(key: str) -> list[str]:
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_KEY_PART.findall(key[len(head) :])]


def _listify(node: Any, parent: str | None) -> Any:
    """Turn dicts whose keys are all array indexes into lists (metadata keys stay a dict)."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    is_array = bool(converted) and parent != "metadata" and all(
        isinstance(k, int) or k.isdigit() for k in converted
    )
    if not is_array:
        return {str(k): v for k, v in converted.items()}
    return [converted[k] for k in sorted(converted, key=int)]


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest decoded `(key, value)` pairs; `k[]` appends, later scalars win."""
    root: dict[Any, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            slot: Any = part
            if part == "":  # `types[]=a&types[]=b`
                slot = len(node)
            if last:
                node[slot] = value
            else:
                child = node.get(slot)
                if not isinstance(child, dict):
                    child = {}
                    node[slot] = child
                node = child
    result = _listify(root, None)
    assert isinstance(result, dict)
    return result


def parse_form(body: bytes | str) -> dict[str, Any]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


class Form:
    """Typed read access to one level of parsed params, naming params the way Stripe does."""

    def __init__(self, data: Mapping[str, Any], path: str = "") -> None:
        self.data = data
        self.path = path

    def name(self, key: str) -> str:
        return f"{self.path}[{key}]" if self.path else key

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def only(self, allowed: Iterable[str]) -> Form:
        permitted = set(allowed) | (GLOBAL_PARAMS if not self.path else set())
        for key in self.data:
            if key not in permitted:
                raise unknown_param(self.name(key))
        return self

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def string(self, key: str, *, required: bool = False, choices: Iterable[str] | None = None,
            nullable: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None or (value == "" and nullable):
            if required:
                raise missing_param(self.name(key))
            return None
        if not isinstance(value, str):
            raise invalid_param(self.name(key), f"Invalid string: {self.name(key)}",
                                "parameter_invalid_string")
        if value == "" and required:
            raise invalid_param(
                self.name(key),
                f"You passed an empty string for '{self.name(key)}'. We assume empty values "
                "are an attempt to unset a parameter; however '" + self.name(key)
                + "' cannot be unset. You should remove '" + self.name(key)
                + "' from your request or supply a non-empty value.",
                "parameter_invalid_empty",
            )
        if choices is not None:
            options = list(choices)
            if value not in options:
                raise invalid_param(
                    self.name(key),
                    f"Invalid {self.name(key)}: must be one of " + ", ".join(options),
                )
        return value

    def integer(self, key: str, *, required: bool = False, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        value = self.string(key, required=required, nullable=not required)
        if value is None:
            return None
        if not _INT.fullmatch(value):
            raise invalid_param(self.name(key), f"Invalid integer: {value}",
                                "parameter_invalid_integer")
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            low = "" if minimum is None else f" greater than or equal to {minimum}"
            high = "" if maximum is None else f" less than or equal to {maximum}"
            joiner = " and" if low and high else ""
            raise invalid_param(
                self.name(key),
                f"This value must be{low}{joiner}{high}.",
                "parameter_invalid_integer",
            )
        return number

    def boolean(self, key: str) -> bool | None:
        value = self.string(key, nullable=True)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise invalid_param(self.name(key), f"Invalid boolean: {value}")
        return value == "true"

    def form(self, key: str, *, required: bool = False) -> Form | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing_param(self.name(key))
            return None
        if not isinstance(value, dict):
            raise invalid_param(self.name(key), f"Invalid object: {self.name(key)}")
        return Form(value, self.name(key))

    def forms(self, key: str, *, required: bool = False) -> list[Form]:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing_param(self.name(key))
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise invalid_param(self.name(key), f"Invalid array: {self.name(key)}")
        return [Form(v, f"{self.name(key)}[{i}]") for i, v in enumerate(value)]

    def strings(self, key: str, *, required: bool = False) -> list[str] | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise missing_param(self.name(key))
            return None
        if isinstance(value, str):
            value = [value] if value else []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid_param(self.name(key), f"Invalid array: {self.name(key)}")
        return list(value)

    def metadata(self, key: str = "metadata") -> dict[str, str] | None:
        """Metadata as sent: `{}` for `metadata=` (clear all), `""` values mean delete that key."""
        value = self.data.get(key)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise invalid_param(self.name(key), "Invalid metadata: values must be strings")
        if len(value) > 50:
            raise invalid_param(self.name(key), "You can specify up to 50 keys in metadata.")
        return dict(value)


def merge_metadata(current: dict[str, str], update: dict[str, str] | None,
                   *, replace: bool = False) -> dict[str, str]:
    """Stripe's metadata update: keys merge, an empty value deletes, an empty dict clears."""
    if update is None:
        return current
    if replace or not update:
        return {k: v for k, v in update.items() if v != ""}
    merged = dict(current)
    for k, v in update.items():
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def require_one_of(form: Form, *keys: str) -> None:
    if not any(k in form for k in keys):
        raise StripeError(
            400,
            "You must provide one of: " + ", ".join(form.name(k) for k in keys) + ".",
            code="parameter_missing",
            param=form.name(keys[0]),
        )

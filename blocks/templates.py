"""Template references in step configs: `{{ trigger.<path> }}` and `{{ steps.<n|key>.<path> }}`.

- `trigger.invoice.id`: the trigger's outcome, followed field by field (digits index lists).
- `steps.0.invoice_id`: the outcome of step 0 (0-based); `steps.<key>.invoice_id` names a step by
  its optional `key`. Only earlier steps can be referenced.
- A string that is exactly one template keeps the referenced value's JSON type (a number stays a
  number); a template inside longer text is formatted into it (null -> "", objects -> JSON).
- A reference to a field that is absent or null at run time renders as null (or "" inside text);
  the block's config validation then decides whether that is acceptable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_EXPR = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$|^\d+$")
Loc = tuple[str | int, ...]


class TemplateSyntaxError(ValueError):
    """A malformed `{{ ... }}`; the message names the expression."""


@dataclass(frozen=True)
class Reference:
    text: str  # as written, without braces: "steps.0.invoice_id"
    root: str  # "trigger" | "steps"
    step: str | None  # the step index or key, for "steps"
    path: tuple[str, ...]


def parse_reference(expression: str) -> Reference:
    text = expression.strip()
    parts = text.split(".")
    if not text or any(not _SEGMENT.match(p) for p in parts):
        raise TemplateSyntaxError(f"'{{{{ {text} }}}}' is not a reference: use dotted names like trigger.invoice.id")
    root = parts[0]
    if root == "trigger":
        return Reference(text, "trigger", None, tuple(parts[1:]))
    if root == "steps":
        if len(parts) < 2:
            raise TemplateSyntaxError(f"'{{{{ {text} }}}}' must name a step: steps.<index or key>.<field>")
        return Reference(text, "steps", parts[1], tuple(parts[2:]))
    raise TemplateSyntaxError(f"'{{{{ {text} }}}}' must start with 'trigger.' or 'steps.'")


def references_in(text: str) -> list[Reference]:
    if "{{" not in text and "}}" not in text:
        return []
    found = [parse_reference(m.group(1)) for m in _EXPR.finditer(text)]
    leftover = _EXPR.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        raise TemplateSyntaxError(f"unbalanced braces in '{text}'")
    return found


def is_templated(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "}}" in value)


def templated_strings(value: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every string containing a template, with its location in the config."""
    if isinstance(value, str):
        if is_templated(value):
            yield loc, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from templated_strings(item, (*loc, str(key)))
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from templated_strings(item, (*loc, index))


@dataclass(frozen=True)
class Scope:
    """What a step's templates can see: the trigger outcome and the outcomes of earlier steps."""

    trigger: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)

    def lookup(self, ref: Reference) -> Any:
        if ref.root == "trigger":
            current: Any = self.trigger
        else:
            assert ref.step is not None
            index = int(ref.step) if ref.step.isdigit() else self.keys.get(ref.step)
            if index is None or index >= len(self.steps):
                return None
            current = self.steps[index]
        for segment in ref.path:
            if isinstance(current, Mapping):
                current = current.get(segment)
            elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
                current = current[int(segment)]
            else:
                return None
        return current


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def render_string(text: str, scope: Scope) -> Any:
    whole = _EXPR.fullmatch(text.strip())
    if whole and text.strip() == text and text.count("{{") == 1:
        return scope.lookup(parse_reference(whole.group(1)))
    references_in(text)  # raises on malformed templates
    return _EXPR.sub(lambda m: _as_text(scope.lookup(parse_reference(m.group(1)))), text)


def render(value: Any, scope: Scope) -> Any:
    """`value` (a config) with every template replaced."""
    if isinstance(value, str):
        return render_string(value, scope) if is_templated(value) else value
    if isinstance(value, Mapping):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value

"""Typed attribute values: validation and normalisation (pure), and the keys of unique values.

Every value is stored as the plain JSON value the `CRM` protocol describes, so what goes in is what
comes out: text/email/url/select -> str, number/currency -> int or float, checkbox -> bool,
date -> "YYYY-MM-DD", timestamp -> ISO 8601 UTC ("...Z"), record-reference -> record id.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from app.crm.protocol import AttributeSpec, AttributeType
from app.errors import AppError, ErrorCode

_EMAIL = re.compile(r"^[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_MAX_TEXT = 10_000
# Longer unique values are indexed by digest so the key fits any database's index.
_MAX_KEY = 200


@dataclass(frozen=True)
class AttrDef:
    """An attribute as stored: the protocol's spec plus the local backend's own flags."""

    slug: str
    title: str
    type: AttributeType
    unique: bool = False
    options: tuple[str, ...] = ()
    target_object: str | None = None
    multi: bool = False
    system: bool = False

    def spec(self) -> AttributeSpec:
        return AttributeSpec(self.slug, self.title, self.type, self.unique, self.options, self.target_object)


class InvalidValue(ValueError):
    """One value refused; the message says why, without the attribute name."""


def normalise(attr: AttrDef, raw: Any) -> Any:
    """The stored form of `raw` for `attr` (None clears the value), or `InvalidValue`."""
    if raw is None:
        return None
    if attr.multi:
        items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        out: list[Any] = []
        for item in items:
            value = _one(attr, item)
            if value not in out:
                out.append(value)
        return out or None
    if isinstance(raw, (list, tuple, dict)):
        raise InvalidValue("expected a single value, not a list or object")
    return _one(attr, raw)


def normalise_values(attributes: dict[str, AttrDef], values: dict[str, Any]) -> dict[str, Any]:
    """Validate every value of a write; one CRM_INVALID_REQUEST naming each bad attribute."""
    clean: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for slug, raw in values.items():
        attr = attributes.get(slug)
        if attr is None:
            problems[slug] = "unknown attribute"
            continue
        try:
            clean[slug] = normalise(attr, raw)
        except InvalidValue as exc:
            problems[slug] = str(exc)
    if problems:
        summary = "; ".join(f"'{k}': {v}" for k, v in list(problems.items())[:5])
        raise AppError(ErrorCode.CRM_INVALID_REQUEST, f"Invalid value for attribute {summary}.", fields=problems)
    return clean


def unique_keys(value: Any) -> list[str]:
    """The index keys of a stored (normalised) value: one per item of a multi-valued attribute."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return sorted({_key(item) for item in items})


def _key(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = format(Decimal(str(value)).normalize(), "f")
    else:
        text = str(value)
    if len(text) > _MAX_KEY:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def _one(attr: AttrDef, raw: Any) -> Any:
    kind = attr.type
    if kind == "text":
        return _text(raw)
    if kind in ("number", "currency"):
        return _number(raw)
    if kind == "date":
        return _date(raw)
    if kind == "timestamp":
        return _timestamp(raw)
    if kind == "select":
        value = _text(raw)
        if value not in attr.options:
            allowed = ", ".join(attr.options) or "none defined"
            raise InvalidValue(f"'{value}' is not one of the options ({allowed})")
        return value
    if kind == "checkbox":
        if not isinstance(raw, bool):
            raise InvalidValue("expected true or false")
        return raw
    if kind == "email":
        return _email(raw)
    if kind == "url":
        return _url(raw)
    if kind == "record-reference":
        value = _text(raw).strip()
        if not _RECORD_ID.match(value):
            raise InvalidValue("expected a record id")
        return value
    raise InvalidValue(f"unsupported attribute type {kind!r}")


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidValue("expected a string")
    if len(raw) > _MAX_TEXT:
        raise InvalidValue(f"longer than {_MAX_TEXT} characters")
    return raw


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise InvalidValue("expected a number")
    try:
        number = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidValue("expected a number") from exc
    if not number.is_finite():
        raise InvalidValue("expected a finite number")
    if number == number.to_integral_value() and abs(number) < 2**63:
        return int(number)
    result = float(number)
    if math.isinf(result):
        raise InvalidValue("number out of range")
    return result


def _date(raw: Any) -> str:
    if isinstance(raw, datetime):
        raise InvalidValue("expected a date (YYYY-MM-DD), not a timestamp")
    if isinstance(raw, date):
        return raw.isoformat()
    text = _text(raw).strip()
    if not _DATE.match(text):
        raise InvalidValue("expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise InvalidValue(f"'{text}' is not a real date") from exc


def _timestamp(raw: Any) -> str:
    if isinstance(raw, datetime):
        moment = raw
    else:
        text = _text(raw).strip()
        if "T" not in text and " " not in text:
            raise InvalidValue("expected an ISO 8601 timestamp such as 2024-05-01T12:00:00Z")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InvalidValue("expected an ISO 8601 timestamp such as 2024-05-01T12:00:00Z") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a timestamp without an offset is read as UTC
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _email(raw: Any) -> str:
    text = _text(raw).strip().lower()
    if len(text) > 320 or not _EMAIL.match(text):
        raise InvalidValue(f"'{text}' is not a valid email address")
    return text


def _url(raw: Any) -> str:
    text = _text(raw).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidValue("expected an http(s) URL")
    return text

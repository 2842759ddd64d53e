"""Typed attribute values: what each type accepts, how it is stored, and what it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from app.crm.local.values import AttrDef, InvalidValue, normalise, normalise_values, unique_keys
from app.crm.protocol import AttributeType
from app.errors import AppError, ErrorCode


def attr(kind: AttributeType, **kw: Any) -> AttrDef:
    return AttrDef("a", "A", kind, **kw)


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("text", "hello", "hello"),
        ("number", 3, 3),
        ("number", 2.5, 2.5),
        ("number", "10.0", 10),
        ("currency", Decimal("12.34"), 12.34),
        ("currency", "500", 500),
        ("date", "2024-02-29", "2024-02-29"),
        ("date", date(2024, 1, 2), "2024-01-02"),
        ("timestamp", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("timestamp", "2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("timestamp", "2024-05-01T12:00:00", "2024-05-01T12:00:00Z"),
        ("timestamp", datetime(2024, 5, 1, 7, tzinfo=timezone(timedelta(hours=-5))), "2024-05-01T12:00:00Z"),
        ("checkbox", True, True),
        ("email", "  Ann@Example.COM ", "ann@example.com"),
        ("url", "https://example.com/x?y=1", "https://example.com/x?y=1"),
        ("record-reference", "rec_0123abcd", "rec_0123abcd"),
    ],
)
def test_accepted_values_are_normalised(kind: AttributeType, raw: Any, stored: Any) -> None:
    assert normalise(attr(kind), raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("text", 5),
        ("number", "ten"),
        ("number", True),
        ("number", "NaN"),
        ("currency", float("inf")),
        ("date", "2024-02-30"),
        ("date", "01/02/2024"),
        ("date", datetime(2024, 1, 2, tzinfo=UTC)),
        ("timestamp", "2024-05-01"),
        ("timestamp", "yesterday"),
        ("checkbox", "true"),
        ("checkbox", 1),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("url", "javascript:alert(1)"),
        ("url", "example.com"),
        ("record-reference", "rec with spaces"),
        ("text", ["a", "b"]),
    ],
)
def test_refused_values(kind: AttributeType, raw: Any) -> None:
    with pytest.raises(InvalidValue):
        normalise(attr(kind), raw)


def test_select_must_be_one_of_the_options() -> None:
    stage = attr("select", options=("new", "won"))
    assert normalise(stage, "won") == "won"
    with pytest.raises(InvalidValue, match="not one of the options"):
        normalise(stage, "lost")


def test_multi_valued_emails_are_lower_cased_and_deduplicated() -> None:
    emails = attr("email", multi=True, unique=True)
    assert normalise(emails, "A@x.io") == ["a@x.io"]
    assert normalise(emails, ["A@x.io", "a@X.io", "b@x.io"]) == ["a@x.io", "b@x.io"]
    assert normalise(emails, []) is None


def test_none_clears_a_value() -> None:
    assert normalise(attr("number"), None) is None


def test_invalid_values_name_every_attribute() -> None:
    attributes = {"amount": AttrDef("amount", "Amount", "currency"), "due": AttrDef("due", "Due", "date")}
    with pytest.raises(AppError) as caught:
        normalise_values(attributes, {"amount": "lots", "due": "soon", "nope": 1})
    assert caught.value.code is ErrorCode.CRM_INVALID_REQUEST
    assert set(caught.value.fields) == {"amount", "due", "nope"}
    assert "'amount'" in caught.value.message


def test_unique_keys() -> None:
    assert unique_keys("in_1") == ["in_1"]
    assert unique_keys(["b@x.io", "a@x.io"]) == ["a@x.io", "b@x.io"]
    assert unique_keys(10) == unique_keys(10.0) == ["10"]
    assert unique_keys(None) == []
    long_key = unique_keys("x" * 500)[0]
    assert long_key.startswith("sha256:") and len(long_key) < 255

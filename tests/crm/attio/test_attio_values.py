from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.crm.attio.values import (
    decode_value,
    decode_values,
    encode_value,
    from_attio_type,
    normalise_timestamp,
    split_name,
    to_attio_type,
)
from app.crm.protocol import ATTRIBUTE_TYPES
from tests.crm.attio import canned
from tests.crm.attio.openapi_check import OpenAPICheck

PERSON_ID = "bf071e1f-6035-429d-b874-d83ea64ea13b"


def test_every_type_of_ours_has_an_attio_type() -> None:
    assert {t: to_attio_type(t) for t in ATTRIBUTE_TYPES} == {
        "text": "text",
        "number": "number",
        "currency": "currency",
        "date": "date",
        "timestamp": "timestamp",
        "select": "select",
        "checkbox": "checkbox",
        "email": "text",
        "url": "text",
        "record-reference": "record-reference",
    }


def test_attio_types_to_ours() -> None:
    assert from_attio_type("email-address") == "email"
    assert from_attio_type("record-reference") == "record-reference"
    assert from_attio_type("currency") == "currency"
    # No equivalent: the Attio name is kept, so it never passes for one of ours.
    assert str(from_attio_type("domain")) == "domain"
    assert str(from_attio_type("personal-name")) == "personal-name"


@pytest.mark.parametrize(
    ("attio_type", "plain", "wire"),
    [
        ("text", "INV-1", [{"value": "INV-1"}]),
        ("number", 12.34, [{"value": 12.34}]),
        ("number", 500, [{"value": 500}]),
        ("number", Decimal("12.30"), [{"value": 12.3}]),
        ("number", "7", [{"value": 7}]),
        ("currency", 12.34, [{"currency_value": 12.34}]),
        ("checkbox", False, [{"value": False}]),
        ("date", "2024-12-31", [{"value": "2024-12-31"}]),
        ("date", date(2024, 1, 2), [{"value": "2024-01-02"}]),
        ("timestamp", "2024-12-31T23:59:59Z", [{"value": "2024-12-31T23:59:59Z"}]),
        ("timestamp", "2024-12-31T23:59:59+01:00", [{"value": "2024-12-31T22:59:59Z"}]),
        ("timestamp", datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC), [{"value": "2024-01-01T00:00:00.000005Z"}]),
        ("select", "paid", [{"option": "paid"}]),
        ("email-address", "ada@example.com", [{"email_address": "ada@example.com"}]),
        ("email-address", ["a@x.io", "b@x.io"], [{"email_address": "a@x.io"}, {"email_address": "b@x.io"}]),
        ("domain", "acme.com", [{"domain": "acme.com"}]),
        (
            "personal-name",
            "Ada King Lovelace",
            [{"first_name": "Ada", "last_name": "King Lovelace", "full_name": "Ada King Lovelace"}],
        ),
        ("record-reference", PERSON_ID, [{"target_object": "people", "target_record_id": PERSON_ID}]),
        ("text", None, []),
    ],
)
def test_encode(attio_type: str, plain: Any, wire: list[dict[str, Any]]) -> None:
    encoded = encode_value(attio_type, plain, target_object="people")
    assert encoded == wire
    OpenAPICheck.load().validate(
        encoded, {"type": "array", "items": {"$ref": "#/components/schemas/input-value"}}, "value"
    )


@pytest.mark.parametrize(
    ("attio_type", "plain"),
    [
        ("text", 5),
        ("number", True),
        ("number", "abc"),
        ("checkbox", "yes"),
        ("date", "31/12/2024"),
        ("number", float("nan")),
        ("timestamp", "2024-12-31T23:59:59"),
        ("select", 3),
        ("location", "x"),
    ],
)
def test_encode_refuses_wrong_values(attio_type: str, plain: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        encode_value(attio_type, plain)


def test_record_reference_needs_a_target() -> None:
    with pytest.raises(ValueError, match="any object"):
        encode_value("record-reference", PERSON_ID)
    assert encode_value("record-reference", {"target_object": "companies", "target_record_id": PERSON_ID}) == [
        {"target_object": "companies", "target_record_id": PERSON_ID}
    ]


def test_decode_each_output_type() -> None:
    option = canned.option_json(canned.new_id(), canned.new_id(), "paid")
    cases: list[tuple[dict[str, Any], Any]] = [
        (canned.text_value("x"), "x"),
        (canned.number_value(12.5), 12.5),
        (canned.checkbox_value(True), True),
        (canned.date_value("2024-01-02"), "2024-01-02"),
        (canned.timestamp_value("2024-01-02T03:04:05.000000000Z"), "2024-01-02T03:04:05Z"),
        (canned.currency_value(9.99, "USD"), 9.99),
        (canned.select_value(option), "paid"),
        (canned.email_value("Ada@Example.com"), "ada@example.com"),
        (canned.domain_value("app.acme.com"), "app.acme.com"),
        (canned.ref_value("people", PERSON_ID), PERSON_ID),
        (canned.name_value("Ada Lovelace"), "Ada Lovelace"),
        (canned.actor_value(PERSON_ID), PERSON_ID),
    ]
    check = OpenAPICheck.load()
    for item, plain in cases:
        check.validate(item, {"$ref": "#/components/schemas/output-value"}, "output value")
        assert decode_value(item) == plain


def test_decode_values_single_and_multi() -> None:
    a, b = canned.email_value("a@x.io"), canned.email_value("b@x.io")
    assert decode_values([], multiselect=False) is None
    assert decode_values([], multiselect=True) == []
    assert decode_values([a], multiselect=False) == "a@x.io"
    assert decode_values([a, b], multiselect=True) == ["a@x.io", "b@x.io"]


def test_timestamps() -> None:
    assert normalise_timestamp("2023-01-01T15:00:00.000000000Z") == "2023-01-01T15:00:00Z"
    assert normalise_timestamp("2023-01-01T15:00:00.123456789Z") == "2023-01-01T15:00:00.123456Z"
    assert normalise_timestamp("2023-01-01T16:00:00+01:00") == "2023-01-01T15:00:00Z"


def test_split_name() -> None:
    assert split_name("  Ada   Lovelace ") == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "full_name": "Ada Lovelace",
    }
    assert split_name("Plato") == {"first_name": "Plato", "last_name": "", "full_name": "Plato"}

"""The request model: every bad input is refused with a message keyed by the field at fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.errors import AppError, ErrorCode
from app.http.body import parse_model
from app.invoicing.models import MAX_AMOUNT, MAX_LINES, CatalogLine, CreateInvoiceRequest, CustomLine, today_utc
from tests.invoicing.conftest import custom, due


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"object": "people", "record_id": "rec_1", "line_items": [custom()],
                            "due_date": due(), "send_email": False}
    base.update(overrides)
    return base


def refused(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(AppError) as caught:
        parse_model(CreateInvoiceRequest, data)
    assert caught.value.code is ErrorCode.VALIDATION
    fields: dict[str, str] = caught.value.fields
    return fields


def test_a_valid_request_parses_both_line_kinds() -> None:
    req = parse_model(CreateInvoiceRequest, body(line_items=[{"price_id": "price_1", "quantity": 3},
                                                             custom(currency="USD")]))
    assert isinstance(req.line_items[0], CatalogLine) and req.line_items[0].quantity == 3
    assert isinstance(req.line_items[1], CustomLine) and req.line_items[1].currency == "usd"


def test_today_is_a_valid_due_date_and_means_the_end_of_that_day_utc() -> None:
    req = parse_model(CreateInvoiceRequest, body(due_date=today_utc().isoformat()))
    end = datetime.fromtimestamp(req.due_timestamp(), UTC)
    assert end.date() == today_utc() and (end.hour, end.minute, end.second) == (23, 59, 59)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"due_date": (today_utc() - timedelta(days=1)).isoformat()}, "due_date", "today"),
    ({"due_date": "31/12/2030"}, "due_date", "YYYY-MM-DD"),
    ({"due_date": (today_utc() + timedelta(days=4000)).isoformat()}, "due_date", "ten years"),
    ({"line_items": []}, "line_items", "at least one line"),
    ({"line_items": [custom()] * (MAX_LINES + 1)}, "line_items", "at most"),
    ({"line_items": [custom(quantity=0)]}, "line_items.0.quantity", "at least 1"),
    ({"line_items": [custom(quantity=-2)]}, "line_items.0.quantity", "at least 1"),
    ({"line_items": [custom(quantity=1.5)]}, "line_items.0.quantity", "whole number"),
    ({"line_items": [custom(unit_amount=0)]}, "line_items.0.unit_amount", "at least 1"),
    ({"line_items": [custom(unit_amount=12.5)]}, "line_items.0.unit_amount", "smallest unit"),
    ({"line_items": [custom(unit_amount="100")]}, "line_items.0.unit_amount", "whole number"),
    ({"line_items": [custom(unit_amount=MAX_AMOUNT + 1)]}, "line_items.0.unit_amount", "at most"),
    ({"line_items": [custom(unit_amount=MAX_AMOUNT, quantity=2)]}, "line_items.0", "must not exceed"),
    ({"line_items": [custom(description="   ")]}, "line_items.0.description", "empty"),
    ({"line_items": [custom(description="x" * 251)]}, "line_items.0.description", "at most 250"),
    ({"line_items": [custom(currency="dollars")]}, "line_items.0.currency", "three-letter"),
    ({"line_items": [custom(), custom(currency="eur")]}, "line_items", "one currency"),
    ({"line_items": [{"price_id": "price_1", "quantity": True}]}, "line_items.0.quantity", "whole number"),
    ({"line_items": [{"price_id": "bad id!"}]}, "line_items.0.price_id", "not a valid id"),
    ({"line_items": [7]}, "line_items.0", "price_id"),
    ({"object": "deals"}, "object", "'people' or 'companies'"),
    ({"record_id": ""}, "record_id", "not a valid id"),
    ({"send_email": "yes"}, "send_email", "true or false"),
    ({"surprise": 1}, "surprise", "not a field"),
])
def test_bad_inputs_are_refused_with_the_field_named(change: dict[str, Any], field: str, words: str) -> None:
    fields = refused(body(**change))
    assert field in fields, fields
    assert words in fields[field]


def test_missing_fields_are_each_named() -> None:
    fields = refused({})
    assert {"object", "record_id", "line_items", "due_date"} <= set(fields)

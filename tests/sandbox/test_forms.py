# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Form decoding as stripe-python encodes it, and the ordered store's cursor pagination."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from app.sandbox.collection import Collection, CreatedRange
from app.sandbox.errors import StripeError
from app.sandbox.forms import Form, merge_metadata, parse_form


def encode_like_stripe(params: dict[str, object]) -> str:
    """What stripe-python puts on the wire (see `_api_requestor`)."""
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


def test_nested_lines_round_trip() -> None:
    params = {
        "lines": [
            {"pricing": {"price": "price_1"}, "quantity": 2},
            {
                "price_data": {"currency": "usd", "unit_amount": 500,
                               "product_data": {"name": "Setup & fee"}},
                "quantity": 1,
                "description": "one-off",
            },
        ],
        "invoice_metadata": {"crm": "rec_1"},
        "expand": ["data.product"],
    }
    wire = encode_like_stripe(params)
    assert "lines[0][pricing][price]=price_1" in wire
    assert "lines[1][price_data][product_data][name]=Setup+%26+fee" in wire
    assert "expand[0]=data.product" in wire
    assert parse_form(wire) == {
        "lines": [
            {"pricing": {"price": "price_1"}, "quantity": "2"},
            {
                "price_data": {"currency": "usd", "unit_amount": "500",
                               "product_data": {"name": "Setup & fee"}},
                "quantity": "1",
                "description": "one-off",
            },
        ],
        "invoice_metadata": {"crm": "rec_1"},
        "expand": ["data.product"],
    }


def test_booleans_metadata_digits_and_append_syntax() -> None:
    wire = encode_like_stripe({"auto_advance": False, "metadata": {"0": "a", "k": ""}})
    assert parse_form(wire) == {"auto_advance": "false", "metadata": {"0": "a", "k": ""}}
    assert parse_form("types[]=a.b&types[]=c.d&created[gt]=5&email=x%2By@z.co") == {
        "types": ["a.b", "c.d"],
        "created": {"gt": "5"},
        "email": "x+y@z.co",
    }
    assert parse_form("metadata=") == {"metadata": ""}


def test_form_typed_access_and_unknown_params() -> None:
    form = Form(parse_form("limit=101&due_date=abc&foo=1"))
    with pytest.raises(StripeError) as error:
        form.only(("limit", "due_date"))
    assert error.value.body()["error"]["message"] == "Received unknown parameter: foo"
    with pytest.raises(StripeError) as error:
        form.integer("limit", minimum=1, maximum=100)
    assert error.value.param == "limit"
    with pytest.raises(StripeError) as error:
        form.integer("due_date")
    assert error.value.code == "parameter_invalid_integer"
    with pytest.raises(StripeError) as error:
        Form({}).string("customer", required=True)
    assert error.value.code == "parameter_missing"


def test_metadata_merge_rules() -> None:
    assert merge_metadata({"a": "1", "b": "2"}, {"b": "", "c": "3"}) == {"a": "1", "c": "3"}
    assert merge_metadata({"a": "1"}, {}) == {}
    assert merge_metadata({"a": "1"}, None) == {"a": "1"}


def test_collection_pages_newest_first_with_cursors_and_created() -> None:
    items: Collection[int] = Collection()
    for i in range(25):
        items.add(f"id{i}", i, created=100 + i // 5)
    items.remove("id20")
    first = items.page(limit=10)
    assert first.items == [24, 23, 22, 21, 19, 18, 17, 16, 15, 14] and first.has_more
    second = items.page(limit=10, starting_after="id14")
    assert second.items == list(range(13, 3, -1)) and second.has_more
    last = items.page(limit=10, starting_after="id4")
    assert last.items == [3, 2, 1, 0] and not last.has_more
    before = items.page(limit=3, ending_before="id10")
    assert before.items == [13, 12, 11] and before.has_more
    assert items.page(limit=100, created=CreatedRange(gte=102, lt=103)).items == [14, 13, 12, 11, 10]
    assert items.page(limit=100, created=CreatedRange(gt=103)).items == [24, 23, 22, 21]
    assert items.page(limit=2, where=lambda v: v % 2 == 0).items == [24, 22]
    with pytest.raises(ValueError):
        items.add("old", 0, created=1)

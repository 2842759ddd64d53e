from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schema_mapping.mapping import SchemaMapping, spec_for
from schema_mapping.spec import FIELD_KEYS, FIELDS, INVOICE_STATUSES


def test_default_matches_the_design_contract() -> None:
    mapping = SchemaMapping.default()
    assert mapping.object_slug == "stripe_invoices"
    assert list(mapping.field_slugs()) == list(FIELD_KEYS)
    assert all(slug == key for key, slug in mapping.field_slugs().items())
    assert set(FIELD_KEYS) == {
        "stripe_invoice_id",
        "number",
        "status",
        "amount_due",
        "amount_paid",
        "amount_remaining",
        "currency",
        "due_date",
        "hosted_invoice_url",
        "invoice_pdf",
        "customer_email",
        "stripe_customer_id",
        "person",
        "finalized_at",
        "paid_at",
        "voided_at",
        "livemode",
    }


def test_spec_types() -> None:
    types = {f.key: f.type for f in FIELDS}
    assert types["status"] == "select"
    assert {types[k] for k in ("amount_due", "amount_paid", "amount_remaining")} == {"number"}
    assert types["due_date"] == "date"
    assert {types[k] for k in ("finalized_at", "paid_at", "voided_at")} == {"timestamp"}
    assert types["hosted_invoice_url"] == types["invoice_pdf"] == "url"
    assert types["customer_email"] == "email"
    assert types["person"] == "record-reference"
    assert types["livemode"] == "checkbox"
    assert [f.key for f in FIELDS if f.unique] == ["stripe_invoice_id"]


def test_spec_for_uses_mapped_slugs() -> None:
    mapping = SchemaMapping(object_slug="invoices", status="invoice_status", person="contact")
    info, attributes = spec_for(mapping)
    assert (info.slug, info.singular, info.plural) == ("invoices", "Stripe invoice", "Stripe invoices")
    by_slug = {a.slug: a for a in attributes}
    assert by_slug["invoice_status"].options == INVOICE_STATUSES
    assert by_slug["contact"].type == "record-reference"
    assert by_slug["contact"].target_object == "people"
    assert by_slug["stripe_invoice_id"].unique
    assert "status" not in by_slug and "person" not in by_slug
    assert len(attributes) == len(FIELD_KEYS)


@pytest.mark.parametrize("bad", ["", "Status", "1status", "status-x", "a" * 64, "st atus", "_x"])
def test_slug_pattern(bad: str) -> None:
    with pytest.raises(ValidationError):
        SchemaMapping(status=bad)
    with pytest.raises(ValidationError):
        SchemaMapping(object_slug=bad)


def test_longest_valid_slug() -> None:
    assert SchemaMapping(status="a" * 63).status == "a" * 63


def test_two_fields_cannot_share_a_slug() -> None:
    with pytest.raises(ValidationError, match="amount_due and amount_paid both map to 'amount'"):
        SchemaMapping(amount_due="amount", amount_paid="amount")
    # A field may reuse another field's default slug once that field moved elsewhere.
    swapped = SchemaMapping(paid_at="voided_at", voided_at="paid_at")
    assert swapped.slug("paid_at") == "voided_at"


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        SchemaMapping.model_validate({"statuss": "x"})


def test_json_round_trip() -> None:
    mapping = SchemaMapping(object_slug="invoices", number="invoice_number")
    text = mapping.to_json()
    assert json.loads(text)["number"] == "invoice_number"
    assert SchemaMapping.from_json(text) == mapping


def test_stored_json_missing_fields_takes_defaults() -> None:
    assert SchemaMapping.from_json('{"object_slug": "invoices"}') == SchemaMapping(object_slug="invoices")


def test_mapping_is_immutable() -> None:
    with pytest.raises(ValidationError):
        SchemaMapping.default().status = "other"
    with pytest.raises(KeyError):
        SchemaMapping.default().slug("nope")

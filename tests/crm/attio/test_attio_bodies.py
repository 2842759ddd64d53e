"""Every body builder's output validates against the trimmed Attio description."""

from __future__ import annotations

import pytest

from app.crm.attio.bodies import (
    attribute_body,
    equals_filter,
    object_body,
    option_body,
    person_values,
    query_body,
    record_body,
)
from app.crm.attio.values import encode_value, to_attio_type
from app.crm.protocol import ATTRIBUTE_TYPES, AttributeSpec, AttributeType
from schema_mapping.mapping import SchemaMapping, spec_for
from tests.crm.attio.openapi_check import OpenAPICheck, SpecViolation

ATTRS = "/v2/{target}/{identifier}/attributes"
RECORDS = "/v2/objects/{object}/records"


@pytest.fixture(scope="module")
def check() -> OpenAPICheck:
    return OpenAPICheck.load()


def test_object_body(check: OpenAPICheck) -> None:
    body = object_body("stripe_invoices", "Stripe invoice", "Stripe invoices")
    check.check_request_body("POST", "/v2/objects", body)
    assert body == {
        "data": {"api_slug": "stripe_invoices", "singular_noun": "Stripe invoice", "plural_noun": "Stripe invoices"}
    }


@pytest.mark.parametrize("our_type", ATTRIBUTE_TYPES)
def test_attribute_body_for_every_type(check: OpenAPICheck, our_type: AttributeType) -> None:
    spec = AttributeSpec(
        slug="field", title="Field", type=our_type, target_object="people" if our_type == "record-reference" else None
    )
    body = attribute_body(spec, attio_type=to_attio_type(our_type))
    check.check_request_body("POST", ATTRS, body)
    data = body["data"]
    assert set(data) == {
        "title",
        "description",
        "api_slug",
        "type",
        "is_required",
        "is_unique",
        "is_multiselect",
        "default_value",
        "config",
    }
    if our_type == "record-reference":
        assert data["config"] == {"record_reference": {"allowed_objects": ["people"]}}
    elif our_type == "currency":
        assert data["config"] == {"currency": {"default_currency_code": "USD", "display_type": "code"}}
    else:
        assert data["config"] == {}


def test_every_default_invoice_attribute_body(check: OpenAPICheck) -> None:
    _, attributes = spec_for(SchemaMapping.default())
    for spec in attributes:
        check.check_request_body("POST", ATTRS, attribute_body(spec, attio_type=to_attio_type(spec.type)))


def test_record_reference_needs_target() -> None:
    with pytest.raises(ValueError):
        attribute_body(AttributeSpec(slug="p", title="P", type="record-reference"), attio_type="record-reference")


def test_the_checker_catches_a_bad_attribute_body(check: OpenAPICheck) -> None:
    body = attribute_body(AttributeSpec(slug="x", title="X", type="text"), attio_type="text")
    del body["data"]["is_unique"]
    with pytest.raises(SpecViolation, match="is_unique"):
        check.check_request_body("POST", ATTRS, body)
    body["data"].update(is_unique=False, colour="red")
    with pytest.raises(SpecViolation):
        check.check_request_body("POST", ATTRS, body)


def test_option_body(check: OpenAPICheck) -> None:
    check.check_request_body("POST", ATTRS + "/{attribute}/options", option_body("paid"))
    with pytest.raises(SpecViolation):
        check.check_request_body("POST", ATTRS + "/{attribute}/options", option_body(""))


def test_record_bodies(check: OpenAPICheck) -> None:
    values = {
        "stripe_invoice_id": encode_value("text", "in_1"),
        "status": encode_value("select", "paid"),
        "amount_due": encode_value("number", 12.34),
        "due_date": encode_value("date", "2024-12-31"),
        "paid_at": encode_value("timestamp", "2024-12-31T00:00:00Z"),
        "livemode": encode_value("checkbox", True),
        "person": encode_value("record-reference", "bf071e1f-6035-429d-b874-d83ea64ea13b", target_object="people"),
        "voided_at": encode_value("timestamp", None),
    }
    for method in ("POST", "PUT"):
        check.check_request_body(method, RECORDS, record_body(values))
    with pytest.raises(SpecViolation):
        check.check_request_body("PUT", RECORDS, {"data": {"values": {"x": "bare string"}}})


def test_person_values(check: OpenAPICheck) -> None:
    values = person_values("Ada Lovelace", "ada@example.com", "bf071e1f-6035-429d-b874-d83ea64ea13b")
    check.check_request_body("POST", RECORDS, record_body(values))
    assert values["name"] == [{"first_name": "Ada", "last_name": "Lovelace", "full_name": "Ada Lovelace"}]
    assert values["email_addresses"] == [{"email_address": "ada@example.com"}]
    assert "company" not in person_values("Ada", "ada@example.com", None)


def test_query_bodies(check: OpenAPICheck) -> None:
    body = query_body(filter=equals_filter("email_addresses", "email-address", "ada@example.com"), limit=10)
    assert body == {"filter": {"email_addresses": {"email_address": {"$eq": "ada@example.com"}}}, "limit": 10}
    check.check_request_body("POST", RECORDS + "/query", body)
    page = query_body(limit=50, offset=100, oldest_first=True)
    assert page["sorts"] == [{"direction": "asc", "attribute": "created_at"}]
    check.check_request_body("POST", RECORDS + "/query", page)
    check.check_request_body("POST", RECORDS + "/query", query_body())


def test_equals_filters() -> None:
    assert equals_filter("person", "record-reference", "r1") == {"person": {"target_record_id": {"$eq": "r1"}}}
    assert equals_filter("stripe_invoice_id", "text", "in_1") == {"stripe_invoice_id": {"$eq": "in_1"}}
    assert equals_filter("name", "personal-name", "Ada") == {"name": {"full_name": {"$eq": "Ada"}}}
    assert equals_filter("domains", "domain", "acme.com") == {"domains": {"domain": {"$eq": "acme.com"}}}

"""Pure builders of Attio request bodies (shapes from Attio's OpenAPI description)."""

from __future__ import annotations

from typing import Any

from app.crm.attio.values import split_name
from app.crm.protocol import AttributeSpec

Json = dict[str, Any]
AttioValues = dict[str, list[dict[str, Any]]]

# What Attio shows under an attribute we create, so a workspace admin knows where it came from.
CREATED_BY_NOTE = "Managed by Stripe Invoicing."


def object_body(slug: str, singular: str, plural: str) -> Json:
    """POST /v2/objects."""
    return {"data": {"api_slug": slug, "singular_noun": singular, "plural_noun": plural}}


def attribute_body(
    spec: AttributeSpec,
    *,
    attio_type: str,
    currency_code: str = "USD",
    multiselect: bool = False,
) -> Json:
    """POST /v2/objects/{object}/attributes: every required field, `config` only where it applies."""
    config: Json = {}
    if attio_type == "currency":
        config["currency"] = {"default_currency_code": currency_code, "display_type": "code"}
    if attio_type == "record-reference":
        if not spec.target_object:
            raise ValueError(f"record-reference attribute {spec.slug!r} needs a target_object")
        config["record_reference"] = {"allowed_objects": [spec.target_object]}
    return {
        "data": {
            "title": spec.title,
            "description": CREATED_BY_NOTE,
            "api_slug": spec.slug,
            "type": attio_type,
            "is_required": False,
            "is_unique": spec.unique,
            "is_multiselect": multiselect,
            "default_value": None,
            "config": config,
        }
    }


def option_body(title: str) -> Json:
    """POST /v2/objects/{object}/attributes/{attribute}/options."""
    return {"data": {"title": title}}


def record_body(values: AttioValues) -> Json:
    """POST and PUT (assert) /v2/objects/{object}/records."""
    return {"data": {"values": values}}


def query_body(
    *,
    filter: Json | None = None,
    limit: int | None = None,
    offset: int | None = None,
    oldest_first: bool = False,
) -> Json:
    """POST /v2/objects/{object}/records/query."""
    body: Json = {}
    if filter is not None:
        body["filter"] = filter
    if oldest_first:
        body["sorts"] = [{"direction": "asc", "attribute": "created_at"}]
    if limit is not None:
        body["limit"] = limit
    if offset is not None:
        body["offset"] = offset
    return body


def equals_filter(slug: str, attio_type: str, value: Any) -> Json:
    """Records whose `slug` has `value` (verbose form where the attribute has sub-properties)."""
    if attio_type == "record-reference":
        return {slug: {"target_record_id": {"$eq": value}}}
    if attio_type == "email-address":
        return {slug: {"email_address": {"$eq": value}}}
    if attio_type == "personal-name":
        return {slug: {"full_name": {"$eq": value}}}
    if attio_type == "domain":
        return {slug: {"domain": {"$eq": value}}}
    return {slug: {"$eq": value}}


def person_values(name: str, email: str, company_id: str | None, *, email_slug: str = "email_addresses") -> AttioValues:
    """Values of a new person: `name` (personal-name), `email_addresses`, optional `company`."""
    values: AttioValues = {
        "name": [split_name(name)],
        email_slug: [{"email_address": email}],
    }
    if company_id is not None:
        values["company"] = [{"target_object": "companies", "target_record_id": company_id}]
    return values

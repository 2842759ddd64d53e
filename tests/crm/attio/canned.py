"""Builders of Attio-shaped JSON (objects, attributes, options, records, values, errors).

Shapes follow the trimmed OpenAPI description; the fake server and the canned-response tests
both use them, and both validate what they build.
"""

from __future__ import annotations

import uuid
from typing import Any

WORKSPACE_ID = "14beef7a-99f7-4534-a87e-70b564330a4c"
CREATED_AT = "2024-01-01T00:00:00.000000000Z"
Json = dict[str, Any]


def new_id() -> str:
    return str(uuid.uuid4())


def object_json(
    slug: str, singular: str, plural: str, *, object_id: str | None = None, created_at: str = CREATED_AT
) -> Json:
    return {
        "id": {"workspace_id": WORKSPACE_ID, "object_id": object_id or new_id()},
        "api_slug": slug,
        "singular_noun": singular,
        "plural_noun": plural,
        "created_at": created_at,
    }


def attribute_json(
    object_id: str,
    slug: str,
    attio_type: str,
    *,
    title: str | None = None,
    attribute_id: str | None = None,
    unique: bool = False,
    multiselect: bool = False,
    system: bool = False,
    archived: bool = False,
    allowed_object_ids: list[str] | None = None,
    currency_code: str | None = None,
    created_at: str = CREATED_AT,
) -> Json:
    return {
        "id": {
            "workspace_id": WORKSPACE_ID,
            "object_id": object_id,
            "attribute_id": attribute_id or new_id(),
        },
        "title": title or slug.replace("_", " ").capitalize(),
        "description": None,
        "api_slug": slug,
        "type": attio_type,
        "is_system_attribute": system,
        "is_writable": not system,
        "is_required": False,
        "is_unique": unique,
        "is_multiselect": multiselect,
        "is_default_value_enabled": False,
        "is_archived": archived,
        "default_value": None,
        "relationship": None,
        "created_at": created_at,
        "config": {
            # Attio sends nulls here for non-currency attributes, but the description's enums
            # leave null out (its own example has nulls): fill in values so responses validate.
            "currency": {"default_currency_code": currency_code or "USD", "display_type": "code"},
            "record_reference": {"allowed_object_ids": allowed_object_ids},
        },
    }


def option_json(
    object_id: str, attribute_id: str, title: str, *, option_id: str | None = None, archived: bool = False
) -> Json:
    return {
        "id": {
            "workspace_id": WORKSPACE_ID,
            "object_id": object_id,
            "attribute_id": attribute_id,
            "option_id": option_id or new_id(),
        },
        "title": title,
        "is_archived": archived,
    }


def record_json(object_id: str, record_id: str, values: dict[str, list[Json]], *, created_at: str = CREATED_AT) -> Json:
    return {
        "id": {"workspace_id": WORKSPACE_ID, "object_id": object_id, "record_id": record_id},
        "created_at": created_at,
        "values": values,
    }


# -- output values ------------------------------------------------------------------------------


def text_value(value: str) -> Json:
    return {"value": value, "attribute_type": "text"}


def number_value(value: float) -> Json:
    return {"value": value, "attribute_type": "number"}


def checkbox_value(value: bool) -> Json:
    return {"value": value, "attribute_type": "checkbox"}


def date_value(value: str) -> Json:
    return {"attribute_type": "date", "value": value}


def timestamp_value(value: str) -> Json:
    return {"attribute_type": "timestamp", "value": value}


def currency_value(value: float, code: str | None = None) -> Json:
    return {"currency_value": value, "currency_code": code, "attribute_type": "currency"}


def select_value(option: Json) -> Json:
    return {"option": option, "attribute_type": "select"}


def email_value(address: str) -> Json:
    local, _, domain = address.partition("@")
    return {
        "original_email_address": address,
        "email_address": address.lower(),
        "email_domain": domain.lower(),
        "email_root_domain": root_domain(domain.lower()),
        "email_local_specifier": local.lower(),
        "attribute_type": "email-address",
    }


def domain_value(domain: str) -> Json:
    return {"domain": domain.lower(), "root_domain": root_domain(domain.lower()), "attribute_type": "domain"}


def ref_value(target_object: str, target_record_id: str) -> Json:
    return {
        "target_object": target_object,
        "target_record_id": target_record_id,
        "attribute_type": "record-reference",
    }


def name_value(full_name: str, first: str | None = None, last: str | None = None) -> Json:
    f, _, l = full_name.partition(" ")
    return {
        "first_name": first if first is not None else f,
        "last_name": last if last is not None else l,
        "full_name": full_name,
        "attribute_type": "personal-name",
    }


def actor_value(actor_id: str) -> Json:
    return {
        "referenced_actor_type": "api-token",
        "referenced_actor_id": actor_id,
        "attribute_type": "actor-reference",
    }


def root_domain(domain: str) -> str:
    return ".".join(domain.split(".")[-2:])


# -- errors -------------------------------------------------------------------------------------


def error_json(status: int, code: str, message: str, *, type_: str = "invalid_request_error") -> Json:
    return {"status_code": status, "type": type_, "code": code, "message": message}


def rate_limit_json() -> Json:
    return error_json(
        429, "rate_limit_exceeded", "Rate limit exceeded, please try again later", type_="rate_limit_error"
    )


def server_error_json(status: int = 500) -> Json:
    return error_json(status, "internal_server_error", "Something went wrong", type_="api_error")

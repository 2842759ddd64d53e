"""Pure mapping between our plain JSON values (see `app.crm.protocol`) and Attio's value shapes.

Writes always use Attio's object form wrapped in a list (`[{"value": ...}]`, `[{"option": title}]`,
`[{"email_address": ...}]`, `[{"target_object", "target_record_id"}]`, `[{"currency_value": ...}]`),
which is what the OpenAPI `input-value` schema describes; `[]` clears a value. Reads take Attio's
`output-value` list (each item carries its `attribute_type`) back to one plain value, or a list for
multiselect attributes.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from app.crm.protocol import AttributeType

# Our type -> the Attio type we create. Attio has no URL type (its docs say: store full URLs in a
# text attribute) and does not let API users create email-address attributes (only the built-in
# `email_addresses` on people has one), so both become text.
ATTIO_TYPE_FOR: dict[AttributeType, str] = {
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

# Attio type -> our type, where we have one.
OUR_TYPE_FOR: dict[str, AttributeType] = {
    "text": "text",
    "number": "number",
    "currency": "currency",
    "date": "date",
    "timestamp": "timestamp",
    "select": "select",
    "checkbox": "checkbox",
    "email-address": "email",
    "record-reference": "record-reference",
}


def to_attio_type(our_type: AttributeType) -> str:
    return ATTIO_TYPE_FOR[our_type]


def from_attio_type(attio_type: str) -> AttributeType:
    """Our name for an Attio type. Types we have no equivalent for (`domain`, `personal-name`,
    `status`, `rating`, `phone-number`, `location`, ...) keep their Attio name, so a schema report
    can say what is really there; they never equal one of ours."""
    return OUR_TYPE_FOR.get(attio_type, cast(AttributeType, attio_type))


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with `Z`; seconds precision unless there are microseconds."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    moment = moment.astimezone(UTC)
    text = moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "microseconds")
    return text.replace("+00:00", "Z")


def normalise_timestamp(value: str) -> str:
    """Attio answers `2023-01-01T15:00:00.000000000Z`; we speak `2023-01-01T15:00:00Z`."""
    return iso_timestamp(datetime.fromisoformat(value))


def split_name(full_name: str) -> dict[str, str]:
    """Attio's personal-name object form needs all three parts."""
    full = " ".join(full_name.split())
    first, _, last = full.partition(" ")
    return {"first_name": first, "last_name": last, "full_name": full}


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError("expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return value
    if isinstance(value, Decimal | str):
        try:
            dec = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
        if not dec.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return int(dec) if dec == dec.to_integral_value() else float(dec)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected {what} as a string, got {type(value).__name__}")
    return value


def _one(attio_type: str, value: Any, target_object: str | None) -> dict[str, Any]:
    if attio_type == "text":
        return {"value": _string(value, "text")}
    if attio_type in ("number", "rating"):
        return {"value": _number(value)}
    if attio_type == "currency":
        return {"currency_value": _number(value)}
    if attio_type == "checkbox":
        if not isinstance(value, bool):
            raise TypeError(f"expected a boolean, got {type(value).__name__}")
        return {"value": value}
    if attio_type == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return {"value": value.isoformat()}
        return {"value": date.fromisoformat(_string(value, "a YYYY-MM-DD date")).isoformat()}
    if attio_type == "timestamp":
        if isinstance(value, datetime):
            return {"value": iso_timestamp(value)}
        return {"value": normalise_timestamp(_string(value, "an ISO 8601 timestamp"))}
    if attio_type == "select":
        return {"option": _string(value, "a select option title")}
    if attio_type == "status":
        return {"status": _string(value, "a status title")}
    if attio_type == "email-address":
        return {"email_address": _string(value, "an email address")}
    if attio_type == "domain":
        return {"domain": _string(value, "a domain")}
    if attio_type == "personal-name":
        if isinstance(value, dict):
            return split_name(str(value.get("full_name", "")))
        return split_name(_string(value, "a name"))
    if attio_type == "record-reference":
        if isinstance(value, dict) and {"target_object", "target_record_id"} <= value.keys():
            return {
                "target_object": str(value["target_object"]),
                "target_record_id": str(value["target_record_id"]),
            }
        if target_object is None:
            raise ValueError(
                "this record reference may point at any object; pass a dict with target_object and target_record_id"
            )
        return {"target_object": target_object, "target_record_id": _string(value, "a record id")}
    raise ValueError(f"writing Attio {attio_type} attributes is not supported")


def encode_value(attio_type: str, value: Any, *, target_object: str | None = None) -> list[dict[str, Any]]:
    """A plain value (or a list of them, or None to clear) as Attio's list of input values.
    Raises ValueError or TypeError for a value the attribute type cannot take."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [_one(attio_type, item, target_object) for item in items if item is not None]


def decode_value(item: dict[str, Any]) -> Any:
    """One Attio output value as a plain JSON value."""
    kind = item.get("attribute_type")
    if kind == "timestamp":
        return normalise_timestamp(str(item["value"]))
    if kind in ("text", "number", "checkbox", "date", "rating"):
        return item.get("value")
    if kind == "currency":
        return item.get("currency_value")
    if kind == "select":
        option = item.get("option")
        return option.get("title") if isinstance(option, dict) else option
    if kind == "status":
        status = item.get("status")
        return status.get("title") if isinstance(status, dict) else status
    if kind == "email-address":
        return item.get("email_address")
    if kind == "domain":
        return item.get("domain")
    if kind == "record-reference":
        return item.get("target_record_id")
    if kind == "personal-name":
        return item.get("full_name")
    if kind == "phone-number":
        return item.get("phone_number") or item.get("original_phone_number")
    if kind == "actor-reference":
        return item.get("referenced_actor_id")
    return {k: v for k, v in item.items() if k != "attribute_type"}


def decode_values(items: list[dict[str, Any]], *, multiselect: bool) -> Any:
    """Attio's list of values for one attribute as one plain value (a list when multiselect)."""
    plain = [decode_value(item) for item in items]
    if multiselect:
        return plain
    if not plain:
        return None
    # Attio returns only the active value for single-value attributes; keep the last if not.
    return plain[-1]

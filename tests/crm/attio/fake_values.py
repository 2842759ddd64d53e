"""Value handling of the fake Attio: input values -> stored output values, filters, sorting.

Follows Attio's attribute-type docs: writes take the object form or the shorthand (a bare
string/number/bool); email addresses are stored with a normalised (lower-case) `email_address`
next to the `original_email_address`; equality filters compare against the normalised form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from tests.crm.attio import canned

Json = dict[str, Any]


class BadValue(Exception):
    """Attio would answer 400 for this value."""


class BadFilter(Exception):
    """Attio would answer 400 `filter_error`."""


def attio_timestamp(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadValue(f"invalid timestamp {value!r}") from exc
    if moment.tzinfo is None:
        raise BadValue(f"timestamp without a time zone {value!r}")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}000Z"


def _field(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else item


def to_output(
    attio_type: str,
    item: Any,
    *,
    option_for: Callable[[str], Json | None],
    resolve_object: Callable[[str], str | None],
    record_exists: Callable[[str, str], bool],
    currency_code: str | None,
) -> Json:
    """One written value as the output value Attio would store and return."""
    if attio_type == "text":
        value = _field(item, "value")
        if not isinstance(value, str):
            raise BadValue("text values are strings")
        return canned.text_value(value)
    if attio_type == "number":
        value = _field(item, "value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValue("number values are numbers")
        return canned.number_value(value)
    if attio_type == "currency":
        value = _field(item, "currency_value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValue("currency values are numbers")
        return canned.currency_value(value, currency_code)
    if attio_type == "checkbox":
        value = _field(item, "value")
        if value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            raise BadValue("checkbox values are booleans")
        return canned.checkbox_value(value)
    if attio_type == "date":
        value = _field(item, "value")
        try:
            return canned.date_value(date.fromisoformat(str(value)[:10]).isoformat())
        except ValueError as exc:
            raise BadValue(f"invalid date {value!r}") from exc
    if attio_type == "timestamp":
        return canned.timestamp_value(attio_timestamp(str(_field(item, "value"))))
    if attio_type == "select":
        title = _field(item, "option")
        option = option_for(str(title))
        if option is None:
            raise BadValue(f'Cannot find select attribute with select option title "{title}".')
        return canned.select_value(option)
    if attio_type == "email-address":
        address = _field(item, "email_address")
        if not isinstance(address, str) or address.count("@") != 1 or "." not in address.split("@")[1]:
            raise BadValue(f"invalid email address {address!r}")
        return canned.email_value(address.strip())
    if attio_type == "domain":
        return canned.domain_value(str(_field(item, "domain")))
    if attio_type == "personal-name":
        if isinstance(item, str):
            return canned.name_value(item)
        if not isinstance(item, dict) or not {"first_name", "last_name", "full_name"} <= item.keys():
            raise BadValue("the object form of a name needs first_name, last_name and full_name")
        return canned.name_value(item["full_name"], item["first_name"], item["last_name"])
    if attio_type == "record-reference":
        if not isinstance(item, dict) or "target_record_id" not in item:
            raise BadValue("record references need target_object and target_record_id")
        slug = resolve_object(str(item.get("target_object")))
        if slug is None or not record_exists(slug, str(item["target_record_id"])):
            raise BadValue("the referenced record does not exist")
        return canned.ref_value(slug, str(item["target_record_id"]))
    raise BadValue(f"the fake does not write {attio_type} values")


def primary(item: Json) -> Any:
    """The value an equality filter compares."""
    kind = item["attribute_type"]
    if kind == "select":
        return item["option"]["title"]
    if kind == "currency":
        return item["currency_value"]
    if kind == "email-address":
        return item["email_address"]
    if kind == "domain":
        return item["domain"]
    if kind == "record-reference":
        return item["target_record_id"]
    if kind == "personal-name":
        return item["full_name"]
    if kind == "actor-reference":
        return item["referenced_actor_id"]
    return item.get("value")


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda have, want: have == want,
    "$in": lambda have, want: have in want,
    "$contains": lambda have, want: isinstance(have, str) and str(want) in have,
    "$starts_with": lambda have, want: isinstance(have, str) and have.startswith(str(want)),
    "$ends_with": lambda have, want: isinstance(have, str) and have.endswith(str(want)),
}


def _apply(ops: Json, values: list[Any]) -> bool:
    for op, want in ops.items():
        if op == "$not_empty":
            if bool(values) != bool(want):
                return False
            continue
        test = _OPS.get(op)
        if test is None:
            raise BadFilter(f"unknown operator {op}")
        if not any(test(v, want) for v in values):
            return False
    return True


def condition(items: list[Json], cond: Any) -> bool:
    """One attribute's condition: shorthand, operators, or `{property: condition}`."""
    if not isinstance(cond, dict):
        return any(primary(i) == cond for i in items)
    if all(k.startswith("$") for k in cond):
        return _apply(cond, [primary(i) for i in items])
    for prop, sub in cond.items():
        values = [i.get(prop) for i in items if prop in i]
        if isinstance(sub, dict):
            if not _apply(sub, values):
                return False
        elif sub not in values:
            return False
    return True


def matches(flt: Json, values_of: Callable[[str], list[Json] | None]) -> bool:
    """`values_of(slug)` gives a record's output values, or None for an unknown attribute."""
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(f, values_of) for f in cond):
                return False
        elif key == "$or":
            if not any(matches(f, values_of) for f in cond):
                return False
        elif key == "$not":
            if matches(cond, values_of):
                return False
        else:
            items = values_of(key)
            if items is None:
                raise BadFilter(f'Unknown attribute slug "{key}" in filter.')
            if not condition(items, cond):
                return False
    return True

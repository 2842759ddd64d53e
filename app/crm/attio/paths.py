"""Every Attio REST v2 path the adapter calls, built in one place."""

from __future__ import annotations

from urllib.parse import quote


def _seg(value: str) -> str:
    return quote(value, safe="")


def objects() -> str:
    return "/v2/objects"


def object_(slug: str) -> str:
    return f"/v2/objects/{_seg(slug)}"


def attributes(object_slug: str) -> str:
    return f"/v2/objects/{_seg(object_slug)}/attributes"


def options(object_slug: str, attribute_slug: str) -> str:
    return f"{attributes(object_slug)}/{_seg(attribute_slug)}/options"


def records(object_slug: str) -> str:
    return f"/v2/objects/{_seg(object_slug)}/records"


def records_query(object_slug: str) -> str:
    return f"{records(object_slug)}/query"


def record(object_slug: str, record_id: str) -> str:
    return f"{records(object_slug)}/{_seg(record_id)}"

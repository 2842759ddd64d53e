"""List endpoints: `limit`, `starting_after`, `ending_before`, `created[...]`, Stripe's envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.sandbox.collection import Collection, CreatedRange, Page
from app.sandbox.errors import StripeError, invalid_param, no_such
from app.sandbox.forms import Form

T = TypeVar("T")

PAGING_PARAMS = frozenset({"limit", "starting_after", "ending_before"})


@dataclass(frozen=True)
class ListQuery:
    limit: int
    starting_after: str | None
    ending_before: str | None


def list_query(form: Form) -> ListQuery:
    limit = form.integer("limit", minimum=1, maximum=100)
    starting_after = form.string("starting_after", nullable=True)
    ending_before = form.string("ending_before", nullable=True)
    if starting_after and ending_before:
        raise StripeError(
            400,
            "You may only specify one of these parameters: ending_before, starting_after.",
            code="parameters_exclusive",
            param="ending_before",
        )
    return ListQuery(limit or 10, starting_after, ending_before)


def created_range(form: Form, key: str = "created") -> CreatedRange | None:
    value = form.raw(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        exact = form.integer(key)
        return CreatedRange(gte=exact, lte=exact)
    bounds = form.form(key)
    assert bounds is not None
    bounds.only(("gt", "gte", "lt", "lte"))
    return CreatedRange(
        gt=bounds.integer("gt"), gte=bounds.integer("gte"), lt=bounds.integer("lt"), lte=bounds.integer("lte")
    )


def page_of(
    collection: Collection[T],
    query: ListQuery,
    kind: str,
    *,
    created: CreatedRange | None = None,
    where: Callable[[T], bool] | None = None,
) -> Page[T]:
    for param, cursor in (("starting_after", query.starting_after),
                          ("ending_before", query.ending_before)):
        if cursor is not None and collection.position(cursor) is None:
            raise no_such(kind, cursor, param=param, status=400)
    return collection.page(
        limit=query.limit,
        starting_after=query.starting_after,
        ending_before=query.ending_before,
        created=created,
        where=where,
    )


def list_body(url: str, data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def check_choice(form: Form, key: str, choices: tuple[str, ...]) -> str | None:
    value = form.string(key, nullable=True)
    if value is not None and value not in choices:
        raise invalid_param(form.name(key), f"Invalid {key}: must be one of " + ", ".join(choices))
    return value

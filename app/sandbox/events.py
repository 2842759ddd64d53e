"""Events: one per change, a snapshot of the object at that moment, queued for each endpoint."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.sandbox.errors import no_such
from app.sandbox.forms import merge_metadata
from app.sandbox.lists import PAGING_PARAMS, created_range, list_body, list_query, page_of
from app.sandbox.models import Account, Event
from app.sandbox.state import EmulatorState
from app.sandbox.templates import Templates

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`previous_attributes`: the old value of every top-level field that changed."""
    return {key: before.get(key) for key in after if before.get(key) != after[key]}


def emit(
    state: EmulatorState,
    account: Account,
    event_type: str,
    snapshot: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
    ctx: ApiContext | None = None,
) -> Event:
    """Record the event (creation order = event order) and queue it for matching endpoints.

    `created` never goes backwards within an account, so `created` filters and the list
    order agree; events created in the same second keep their creation order.
    """
    event = Event(
        id=state.new_id("evt_"),
        created=account.events.next_created(state.now()),
        livemode=snapshot.get("livemode", account.livemode),
        type=event_type,
        object=snapshot,
        previous_attributes=previous_attributes,
        api_version=account.api_version,
        request_id=ctx.request_id if ctx else None,
        idempotency_key=ctx.idempotency_key if ctx else None,
    )
    account.events.add(event.id, event, event.created)
    for endpoint in account.webhook_endpoints.values():
        if endpoint.wants(event_type):
            account.webhook_queues.setdefault(endpoint.id, deque()).append(event.id)
            event.pending_webhooks += 1
    return event


def apply_update(
    ctx: ApiContext,
    obj: Any,
    changes: dict[str, Any],
    metadata: dict[str, str] | None,
    render_obj: Callable[[Templates, Any], dict[str, Any]],
    event_type: str,
    *,
    touch: str | None = None,
) -> dict[str, Any]:
    """Apply field changes and merged metadata to `obj`; when anything changed, stamp `touch`
    (if given) and emit `event_type` with `previous_attributes`. Returns the new snapshot."""
    before = render_obj(ctx.templates, obj)
    for key, value in changes.items():
        setattr(obj, key, value)
    obj.metadata = merge_metadata(obj.metadata, metadata)
    after = render_obj(ctx.templates, obj)
    previous = diff(before, after)
    if previous:
        if touch:
            setattr(obj, touch, ctx.now)
            after = render_obj(ctx.templates, obj)
        emit(ctx.state, ctx.account, event_type, after, previous_attributes=previous, ctx=ctx)
    return after


def render(templates: Templates, event: Event, *, api_version: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"object": event.object}
    if event.previous_attributes is not None:
        data["previous_attributes"] = event.previous_attributes
    return {
        **templates.event,
        "id": event.id,
        "object": "event",
        "api_version": api_version or event.api_version,
        "created": event.created,
        "data": data,
        "livemode": event.livemode,
        "pending_webhooks": event.pending_webhooks,
        "request": {"id": event.request_id, "idempotency_key": event.idempotency_key},
        "type": event.type,
    }


def retrieve(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    event = ctx.account.events.get(ctx.path("id"))
    if event is None:
        raise no_such("event", ctx.path("id"))
    return render(ctx.templates, event)


def list_events(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(PAGING_PARAMS | {"type", "types", "created", "delivery_success"})
    query = list_query(form)
    created = created_range(form)
    event_type = form.string("type", nullable=True)
    types = set(form.strings("types") or ())
    delivery_success = form.boolean("delivery_success")

    def where(event: Event) -> bool:
        if event_type is not None and not _type_matches(event.type, event_type):
            return False
        if types and event.type not in types:
            return False
        return delivery_success is None or (event.pending_webhooks == 0) == delivery_success

    page = page_of(ctx.account.events, query, "event", created=created, where=where)
    return list_body("/v1/events", [render(ctx.templates, e) for e in page.items], page.has_more)


def _type_matches(actual: str, wanted: str) -> bool:
    """Stripe allows one `*` wildcard: `invoice.*`."""
    if "*" not in wanted:
        return actual == wanted
    head, _, tail = wanted.partition("*")
    return actual.startswith(head) and actual.endswith(tail)

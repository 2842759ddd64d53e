"""`/v1/webhook_endpoints`. The `secret` is shown once, in the create response."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.sandbox.errors import StripeError, invalid_param, no_such
from app.sandbox.forms import Form, merge_metadata
from app.sandbox.lists import PAGING_PARAMS, list_body, list_query, page_of
from app.sandbox.models import WebhookEndpoint
from app.sandbox.templates import Templates

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext

MAX_ENDPOINTS = 16
_EVENT_TYPE = re.compile(r"\*|[a-z_]+(\.[a-z_*]+)+")


def render(templates: Templates, endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        **templates.webhook_endpoint,
        "api_version": endpoint.api_version,
        "application": None,
        "created": endpoint.created,
        "description": endpoint.description,
        "enabled_events": list(endpoint.enabled_events),
        "id": endpoint.id,
        "livemode": endpoint.livemode,
        "metadata": dict(endpoint.metadata),
        "object": "webhook_endpoint",
        "status": endpoint.status,
        "url": endpoint.url,
    }


def _url(form: Form) -> str:
    url = form.string("url", required=True) or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_param("url", f"Invalid URL: {url}", code="url_invalid")
    return url


def _enabled_events(form: Form) -> list[str]:
    types = form.strings("enabled_events", required=True) or []
    if not types:
        raise invalid_param("enabled_events", "enabled_events must name at least one event "
                            "type, or '*'.", code="parameter_invalid_empty")
    for index, event_type in enumerate(types):
        if not _EVENT_TYPE.fullmatch(event_type):
            raise invalid_param(f"enabled_events[{index}]",
                                f"Invalid enabled_events[{index}]: {event_type}")
    return types


def get(ctx: ApiContext, endpoint_id: str) -> WebhookEndpoint:
    endpoint = ctx.account.webhook_endpoints.get(endpoint_id)
    if endpoint is None:
        raise no_such("webhook endpoint", endpoint_id)
    return endpoint


def create(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(("url", "enabled_events", "api_version", "description", "metadata",
                          "connect"))
    url = _url(form)
    types = _enabled_events(form)
    if form.boolean("connect"):
        raise invalid_param("connect", "Connect endpoints are not emulated.")
    if len(ctx.account.webhook_endpoints) >= MAX_ENDPOINTS:
        raise StripeError(400, f"You have reached the maximum of {MAX_ENDPOINTS} test webhook "
                          "endpoints.", code="webhook_endpoint_limit")
    endpoint = WebhookEndpoint(
        id=ctx.state.new_id("we_"),
        created=ctx.account.webhook_endpoints.next_created(ctx.now),
        livemode=ctx.livemode,
        url=url,
        enabled_events=types,
        secret="whsec_" + secrets.token_hex(16),
        api_version=form.string("api_version", nullable=True),
        description=form.string("description", nullable=True),
        metadata=merge_metadata({}, form.metadata()),
    )
    ctx.account.webhook_endpoints.add(endpoint.id, endpoint, endpoint.created)
    return {**render(ctx.templates, endpoint), "secret": endpoint.secret}


def retrieve(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    return render(ctx.templates, get(ctx, ctx.path("id")))


def update(ctx: ApiContext) -> dict[str, Any]:
    endpoint = get(ctx, ctx.path("id"))
    form = ctx.form.only(("url", "enabled_events", "description", "metadata", "disabled"))
    url = _url(form) if "url" in form else endpoint.url
    types = _enabled_events(form) if "enabled_events" in form else endpoint.enabled_events
    description = (form.string("description", nullable=True) if "description" in form
                   else endpoint.description)
    disabled = form.boolean("disabled")
    endpoint.url, endpoint.enabled_events, endpoint.description = url, types, description
    endpoint.metadata = merge_metadata(endpoint.metadata, form.metadata())
    if disabled is not None:
        endpoint.status = "disabled" if disabled else "enabled"
    return render(ctx.templates, endpoint)


def delete(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    endpoint = get(ctx, ctx.path("id"))
    ctx.account.webhook_endpoints.remove(endpoint.id)
    # Undelivered events for a deleted endpoint are dropped, as on Stripe.
    for event_id in ctx.account.webhook_queues.pop(endpoint.id, ()):
        event = ctx.account.events.get(event_id)
        if event is not None and event.pending_webhooks > 0:
            event.pending_webhooks -= 1
    return {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}


def list_endpoints(ctx: ApiContext) -> dict[str, Any]:
    query = list_query(ctx.form.only(PAGING_PARAMS))
    page = page_of(ctx.account.webhook_endpoints, query, "webhook endpoint")
    return list_body("/v1/webhook_endpoints", [render(ctx.templates, e) for e in page.items],
                     page.has_more)

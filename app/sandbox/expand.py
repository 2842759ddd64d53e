"""`expand[]=product`, `expand[]=data.product`, `expand[]=customer`: ids become objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.sandbox.errors import invalid_param

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext

MAX_DEPTH = 4


def _resolve(ctx: ApiContext, object_id: str) -> dict[str, Any] | None:
    from app.sandbox import catalog, customers, invoices, webhooks

    account = ctx.account
    if object_id.startswith("cus_"):
        customer = account.customers.get(object_id)
        return customers.render(ctx.templates, customer) if customer else None
    if object_id.startswith("prod_"):
        product = account.products.get(object_id)
        return catalog.render_product(ctx.templates, product) if product else None
    if object_id.startswith("price_"):
        price = account.prices.get(object_id)
        return catalog.render_price(ctx.templates, price) if price else None
    if object_id.startswith("in_"):
        invoice = account.invoices.get(object_id)
        return invoices.render(ctx.templates, invoice) if invoice else None
    if object_id.startswith("we_"):
        endpoint = account.webhook_endpoints.get(object_id)
        return webhooks.render(ctx.templates, endpoint) if endpoint else None
    return None


def _expand_path(ctx: ApiContext, node: Any, parts: list[str], full: str) -> Any:
    if isinstance(node, list):
        return [_expand_path(ctx, item, parts, full) for item in node]
    if not isinstance(node, dict) or not parts:
        return node
    head, rest = parts[0], parts[1:]
    if head not in node:
        raise invalid_param("expand", f"This property cannot be expanded ({full}).")
    value = node[head]
    copy = dict(node)
    if rest:
        copy[head] = _expand_path(ctx, value, rest, full)
    elif isinstance(value, str):
        resolved = _resolve(ctx, value)
        if resolved is None:
            raise invalid_param("expand", f"This property cannot be expanded ({full}).")
        copy[head] = resolved
    elif value is not None and not isinstance(value, dict):
        raise invalid_param("expand", f"This property cannot be expanded ({full}).")
    return copy


def expand(ctx: ApiContext, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Returns a new body; the rendered input (maybe an event snapshot) is left untouched."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise invalid_param("expand", f"You cannot expand more than {MAX_DEPTH} levels of a property.")
        body = _expand_path(ctx, body, parts, path)
    return body

"""`/v1/products` and `/v1/prices`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from app.sandbox import events
from app.sandbox.errors import StripeError, invalid_param, no_such
from app.sandbox.forms import Form, merge_metadata
from app.sandbox.lists import (
    PAGING_PARAMS,
    check_choice,
    created_range,
    list_body,
    list_query,
    page_of,
)
from app.sandbox.models import Price, Product
from app.sandbox.templates import Templates

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext

_CURRENCY = re.compile(r"[a-z]{3}")
_INTERVALS = ("day", "week", "month", "year")
_PRODUCT_FIELDS = ("name", "description", "active", "metadata", "images", "url", "unit_label",
                   "tax_code", "statement_descriptor")
_PRODUCT_DATA_FIELDS = ("name", "metadata", "unit_label", "tax_code", "statement_descriptor",
                        "active", "id", "description", "images")
_PRICE_FIELDS = ("product", "product_data", "currency", "unit_amount", "unit_amount_decimal",
                 "recurring", "nickname", "lookup_key", "metadata", "active", "tax_behavior",
                 "billing_scheme", "transfer_lookup_key")
_TAX_BEHAVIORS = ("exclusive", "inclusive", "unspecified")


def render_product(templates: Templates, product: Product) -> dict[str, Any]:
    return {
        **templates.product,
        "active": product.active,
        "created": product.created,
        "default_price": product.default_price,
        "description": product.description,
        "id": product.id,
        "images": list(product.images),
        "livemode": product.livemode,
        "marketing_features": [],
        "metadata": dict(product.metadata),
        "name": product.name,
        "object": "product",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": product.statement_descriptor,
        "tax_code": product.tax_code,
        "unit_label": product.unit_label,
        "updated": product.updated,
        "url": product.url,
        "type": "service",
    }


def render_price(templates: Templates, price: Price) -> dict[str, Any]:
    return {
        **templates.price,
        "active": price.active,
        "billing_scheme": "per_unit",
        "created": price.created,
        "currency": price.currency,
        "custom_unit_amount": None,
        "id": price.id,
        "livemode": price.livemode,
        "lookup_key": price.lookup_key,
        "metadata": dict(price.metadata),
        "nickname": price.nickname,
        "object": "price",
        "product": price.product,
        "recurring": dict(price.recurring) if price.recurring else None,
        "tax_behavior": price.tax_behavior,
        "tiers_mode": None,
        "transform_quantity": None,
        "type": price.type,
        "unit_amount": price.unit_amount,
        "unit_amount_decimal": str(price.unit_amount),
    }


def currency_of(form: Form, key: str = "currency") -> str:
    value = form.string(key, required=True)
    assert value is not None
    currency = value.lower()
    if not _CURRENCY.fullmatch(currency):
        raise invalid_param(form.name(key), f"Invalid currency: {value}")
    return currency


def unit_amount_of(form: Form) -> int:
    """`unit_amount`, or a whole-number `unit_amount_decimal`."""
    amount = form.integer("unit_amount", minimum=0)
    if amount is None and "unit_amount_decimal" in form:
        decimal = form.string("unit_amount_decimal", required=True) or ""
        if not re.fullmatch(r"\d+(\.0+)?", decimal):
            raise invalid_param(form.name("unit_amount_decimal"),
                                "The emulator supports whole-number unit_amount_decimal only.")
        amount = int(decimal.split(".")[0])
    if amount is None:
        raise StripeError(400, "Missing required param: unit_amount.", code="parameter_missing",
                          param=form.name("unit_amount"))
    return amount


def get_product(ctx: ApiContext, product_id: str, *, param: str | None = None) -> Product:
    product = ctx.account.products.get(product_id)
    if product is None:
        raise no_such("product", product_id, param=param, status=400 if param else 404)
    return product


def get_price(ctx: ApiContext, price_id: str, *, param: str | None = None) -> Price:
    price = ctx.account.prices.get(price_id)
    if price is None:
        raise no_such("price", price_id, param=param, status=400 if param else 404)
    return price


def new_product(ctx: ApiContext, data: Form, *, active: bool = True) -> Product:
    """Validate `data` (product create params or `product_data`) into an unsaved product."""
    name = data.string("name", required=True)
    assert name is not None
    product_id = data.string("id", nullable=True) or ctx.state.new_id("prod_", 14)
    if product_id in ctx.account.products:
        raise StripeError(400, "Product already exists.", code="resource_already_exists",
                          param=data.name("id"))
    flag = data.boolean("active")
    return Product(
        id=product_id,
        created=ctx.account.products.next_created(ctx.now),
        updated=ctx.now,
        livemode=ctx.livemode,
        name=name,
        active=active if flag is None else flag,
        description=data.string("description", nullable=True),
        metadata=merge_metadata({}, data.metadata()),
        images=data.strings("images") or [],
        url=data.string("url", nullable=True),
        unit_label=data.string("unit_label", nullable=True),
        tax_code=data.string("tax_code", nullable=True),
        statement_descriptor=data.string("statement_descriptor", nullable=True),
    )


def save_product(ctx: ApiContext, product: Product, *, announce: bool = True) -> None:
    ctx.account.products.add(product.id, product, product.created)
    if announce:
        events.emit(ctx.state, ctx.account, "product.created",
                    render_product(ctx.templates, product), ctx=ctx)


def save_price(ctx: ApiContext, price: Price, *, announce: bool = True) -> None:
    price.created = ctx.account.prices.next_created(price.created)
    ctx.account.prices.add(price.id, price, price.created)
    if announce:
        events.emit(ctx.state, ctx.account, "price.created", render_price(ctx.templates, price),
                    ctx=ctx)


# products -----------------------------------------------------------------------------------

def create_product(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(_PRODUCT_FIELDS + ("id", "default_price_data", "shippable", "type",
                                            "marketing_features", "package_dimensions"))
    product = new_product(ctx, form)
    default = form.form("default_price_data")
    price: Price | None = None
    if default is not None:
        default.only(("currency", "unit_amount", "unit_amount_decimal", "recurring",
                      "tax_behavior", "metadata"))
        price = _new_price(ctx, default, product.id)
        product.default_price = price.id
    save_product(ctx, product)
    if price is not None:
        save_price(ctx, price)
    return render_product(ctx.templates, product)


def retrieve_product(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    return render_product(ctx.templates, get_product(ctx, ctx.path("id")))


def update_product(ctx: ApiContext) -> dict[str, Any]:
    product = get_product(ctx, ctx.path("id"))
    form = ctx.form.only(_PRODUCT_FIELDS + ("default_price", "shippable", "marketing_features",
                                            "package_dimensions"))
    changes: dict[str, Any] = {}
    if "name" in form:
        changes["name"] = form.string("name", required=True)
    for key in ("description", "url", "unit_label", "tax_code", "statement_descriptor"):
        if key in form:
            changes[key] = form.string(key, nullable=True)
    if "active" in form:
        changes["active"] = form.boolean("active")
    if "images" in form:
        changes["images"] = form.strings("images") or []
    if "default_price" in form:
        price_id = form.string("default_price", nullable=True)
        if price_id is not None and get_price(ctx, price_id, param="default_price").product != product.id:
            raise invalid_param("default_price", "The default price must belong to this product.")
        changes["default_price"] = price_id
    return events.apply_update(ctx, product, changes, form.metadata(), render_product, "product.updated",
                               touch="updated")


def delete_product(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    product = get_product(ctx, ctx.path("id"))
    if any(p.product == product.id for p in ctx.account.prices.values()):
        raise StripeError(400, "This product cannot be deleted because it has one or more "
                          "user-created prices.", code="product_has_prices")
    snapshot = render_product(ctx.templates, product)
    ctx.account.products.remove(product.id)
    events.emit(ctx.state, ctx.account, "product.deleted", snapshot, ctx=ctx)
    return {"id": product.id, "object": "product", "deleted": True}


def list_products(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(PAGING_PARAMS | {"active", "created", "ids", "shippable", "url"})
    query = list_query(form)
    active = form.boolean("active")
    ids = set(form.strings("ids") or ())

    def where(product: Product) -> bool:
        return (active is None or product.active == active) and (not ids or product.id in ids)

    page = page_of(ctx.account.products, query, "product", created=created_range(form),
                   where=where)
    return list_body("/v1/products", [render_product(ctx.templates, p) for p in page.items],
                     page.has_more)


# prices -------------------------------------------------------------------------------------

def _new_price(ctx: ApiContext, form: Form, product_id: str, *, active: bool = True) -> Price:
    currency = currency_of(form)
    amount = unit_amount_of(form)
    recurring: dict[str, Any] | None = None
    recurring_form = form.form("recurring")
    if recurring_form is not None:
        recurring_form.only(("interval", "interval_count", "usage_type", "meter",
                             "trial_period_days"))
        interval = recurring_form.string("interval", required=True, choices=_INTERVALS)
        recurring = {
            "interval": interval,
            "interval_count": recurring_form.integer("interval_count", minimum=1) or 1,
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": recurring_form.integer("trial_period_days", minimum=0),
        }
    flag = form.boolean("active") if "active" in form else None
    return Price(
        id=ctx.state.new_id("price_"),
        created=ctx.now,
        livemode=ctx.livemode,
        product=product_id,
        currency=currency,
        unit_amount=amount,
        active=active if flag is None else flag,
        recurring=recurring,
        nickname=form.string("nickname", nullable=True),
        lookup_key=form.string("lookup_key", nullable=True),
        metadata=merge_metadata({}, form.metadata()),
        tax_behavior=form.string("tax_behavior", choices=_TAX_BEHAVIORS) or "unspecified",
    )


def create_price(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(_PRICE_FIELDS)
    form.string("billing_scheme", choices=("per_unit",))  # tiered pricing is not emulated
    product_id = form.string("product", nullable=True)
    product_data = form.form("product_data")
    if (product_id is None) == (product_data is None):
        raise StripeError(400, "You must specify exactly one of product or product_data.",
                          code="parameter_missing", param="product")
    new_product_obj: Product | None = None
    if product_id is not None:
        get_product(ctx, product_id, param="product")
    else:
        assert product_data is not None
        new_product_obj = new_product(ctx, product_data.only(_PRODUCT_DATA_FIELDS))
        product_id = new_product_obj.id
    price = _new_price(ctx, form, product_id)
    lookup_key = price.lookup_key
    if lookup_key is not None and any(p.lookup_key == lookup_key for p in ctx.account.prices.values()):
        if form.boolean("transfer_lookup_key"):
            for other in ctx.account.prices.values():
                if other.lookup_key == lookup_key:
                    other.lookup_key = None
        else:
            raise invalid_param("lookup_key", f"A price (or other object) with the lookup key "
                                f"'{lookup_key}' already exists.")
    if new_product_obj is not None:
        save_product(ctx, new_product_obj)
    save_price(ctx, price)
    return render_price(ctx.templates, price)


def retrieve_price(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    return render_price(ctx.templates, get_price(ctx, ctx.path("id")))


def update_price(ctx: ApiContext) -> dict[str, Any]:
    price = get_price(ctx, ctx.path("id"))
    form = ctx.form.only(("active", "nickname", "metadata", "lookup_key", "tax_behavior",
                          "transfer_lookup_key"))
    changes: dict[str, Any] = {}
    if "active" in form:
        changes["active"] = form.boolean("active")
    for key in ("nickname", "lookup_key"):
        if key in form:
            changes[key] = form.string(key, nullable=True)
    if "tax_behavior" in form:
        changes["tax_behavior"] = form.string("tax_behavior", choices=_TAX_BEHAVIORS)
    return events.apply_update(ctx, price, changes, form.metadata(), render_price, "price.updated")


def list_prices(ctx: ApiContext) -> dict[str, Any]:
    form = ctx.form.only(PAGING_PARAMS | {"active", "type", "product", "currency", "created",
                                          "lookup_keys", "recurring"})
    query = list_query(form)
    active = form.boolean("active")
    price_type = check_choice(form, "type", ("one_time", "recurring"))
    product = form.string("product", nullable=True)
    currency = form.string("currency", nullable=True)
    lookup_keys = set(form.strings("lookup_keys") or ())

    def where(price: Price) -> bool:
        return (
            (active is None or price.active == active)
            and (price_type is None or price.type == price_type)
            and (product is None or price.product == product)
            and (currency is None or price.currency == currency.lower())
            and (not lookup_keys or price.lookup_key in lookup_keys)
        )

    page = page_of(ctx.account.prices, query, "price", created=created_range(form), where=where)
    return list_body("/v1/prices", [render_price(ctx.templates, p) for p in page.items],
                     page.has_more)

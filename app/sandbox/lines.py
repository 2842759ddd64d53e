"""Invoice lines and invoice items: validating a line's pricing and rendering it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.sandbox import catalog
from app.sandbox.errors import StripeError, invalid_param
from app.sandbox.forms import Form, merge_metadata
from app.sandbox.models import Invoice, InvoiceItem, LineItem, Price, Product
from app.sandbox.templates import Templates

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext

LINE_FIELDS = ("amount", "description", "discountable", "metadata", "period", "price_data",
               "pricing", "quantity")


@dataclass
class LineSpec:
    """A validated line (or invoice item) that has not touched state yet."""

    amount: int
    currency: str
    currency_param: str
    quantity: int
    unit_amount: int
    description: str | None
    price: Price | None
    product: Product | None
    new_product: Product | None
    new_price: Price | None
    metadata: dict[str, str]
    period_start: int
    period_end: int
    discountable: bool


def parse_line(ctx: ApiContext, form: Form, *, currency: str | None,
               currency_param: str) -> LineSpec:
    """One of `pricing[price]`, `price_data` or `amount` (which takes `currency`)."""
    pricing = form.form("pricing")
    price_data = form.form("price_data")
    has_amount = "amount" in form
    if sum((pricing is not None, price_data is not None, has_amount)) != 1:
        raise StripeError(
            400,
            "You must specify exactly one of amount, price_data or pricing[price].",
            code="parameter_missing",
            param=form.name("pricing"),
        )
    quantity = form.integer("quantity", minimum=0)
    quantity = 1 if quantity is None else quantity
    new_product: Product | None = None
    new_price: Price | None = None
    price: Price | None = None
    product: Product | None = None
    if pricing is not None:
        pricing.only(("price",))
        price_id = pricing.string("price", required=True) or ""
        price = catalog.get_price(ctx, price_id, param=pricing.name("price"))
        if price.type != "one_time":
            raise invalid_param(pricing.name("price"), "The price specified is set to "
                                "`type=recurring` but this field only accepts prices with "
                                "`type=one_time`.")
        if not price.active:
            raise invalid_param(pricing.name("price"), "The price specified is inactive. This "
                                "field only accepts active prices.")
        product = ctx.account.products.get(price.product)
        currency, unit, param = price.currency, price.unit_amount, pricing.name("price")
    elif price_data is not None:
        price_data.only(("currency", "product", "product_data", "unit_amount",
                         "unit_amount_decimal", "tax_behavior"))
        currency = catalog.currency_of(price_data)
        param = price_data.name("currency")
        unit = catalog.unit_amount_of(price_data)
        product_id = price_data.string("product", nullable=True)
        product_data = price_data.form("product_data")
        if (product_id is None) == (product_data is None):
            raise StripeError(400, "You must specify exactly one of product or product_data.",
                              code="parameter_missing", param=price_data.name("product"))
        if product_id is not None:
            product = catalog.get_product(ctx, product_id, param=price_data.name("product"))
        else:
            assert product_data is not None
            product_data.only(("name", "description", "images", "metadata", "tax_code",
                               "unit_label"))
            # Inline products and prices exist (ids resolve) but stay out of the active catalog.
            product = new_product = catalog.new_product(ctx, product_data, active=False)
        new_price = price = Price(
            id=ctx.state.new_id("price_"), created=ctx.now, livemode=ctx.livemode,
            product=product.id, currency=currency, unit_amount=unit, active=False,
        )
    else:
        unit = form.integer("amount", required=True) or 0
        if currency is None:
            raise StripeError(400, "Missing required param: currency.", code="parameter_missing",
                              param=currency_param)
        param = currency_param
        quantity = 1
    description = form.string("description", nullable=True)
    if description is None and product is not None:
        description = product.name
    period = form.form("period")
    start = end = ctx.now
    if period is not None:
        period.only(("start", "end"))
        start = period.integer("start", required=True) or 0
        end = period.integer("end", required=True) or 0
    discountable = form.boolean("discountable")
    return LineSpec(
        amount=unit * quantity, currency=currency, currency_param=param, quantity=quantity,
        unit_amount=unit, description=description, price=price, product=product,
        new_product=new_product, new_price=new_price,
        metadata=merge_metadata({}, form.metadata()), period_start=start, period_end=end,
        discountable=True if discountable is None else discountable,
    )


def save_catalog(ctx: ApiContext, spec: LineSpec) -> None:
    """Inline products/prices are stored without `*.created` events."""
    if spec.new_product is not None:
        catalog.save_product(ctx, spec.new_product, announce=False)
    if spec.new_price is not None:
        catalog.save_price(ctx, spec.new_price, announce=False)


def new_item(ctx: ApiContext, spec: LineSpec, customer_id: str,
             invoice_id: str | None) -> InvoiceItem:
    item = InvoiceItem(
        id=ctx.state.new_id("ii_"),
        created=ctx.account.invoiceitems.next_created(ctx.now),
        livemode=ctx.livemode, customer=customer_id, amount=spec.amount,
        currency=spec.currency, quantity=spec.quantity, unit_amount=spec.unit_amount,
        description=spec.description, price=spec.price.id if spec.price else None,
        product=spec.product.id if spec.product else None, period_start=spec.period_start,
        period_end=spec.period_end, invoice=invoice_id, metadata=dict(spec.metadata),
        discountable=spec.discountable,
    )
    ctx.account.invoiceitems.add(item.id, item, item.created)
    return item


def line_for_item(ctx: ApiContext, item: InvoiceItem) -> LineItem:
    return LineItem(
        id=ctx.state.new_id("il_"), invoice_item=item.id, amount=item.amount,
        currency=item.currency, quantity=item.quantity, unit_amount=item.unit_amount,
        description=item.description, price=item.price, product=item.product,
        period_start=item.period_start, period_end=item.period_end,
        metadata=dict(item.metadata), discountable=item.discountable,
    )


def render_line(templates: Templates, invoice: Invoice, line: LineItem) -> dict[str, Any]:
    price_details = None
    if line.price is not None:
        price_details = {"price": line.price, "product": line.product}
    return {
        **templates.line_item,
        "amount": line.amount,
        "currency": line.currency,
        "description": line.description,
        "discount_amounts": [],
        "discountable": line.discountable,
        "discounts": [],
        "id": line.id,
        "invoice": invoice.id,
        "livemode": invoice.livemode,
        "metadata": dict(line.metadata),
        "object": "line_item",
        "period": {"end": line.period_end, "start": line.period_start},
        "quantity": line.quantity,
        "subscription": None,
        "pretax_credit_amounts": [],
        "taxes": [],
        "parent": {
            "invoice_item_details": {
                "invoice_item": line.invoice_item,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": None,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "pricing": {
            "price_details": price_details,
            "type": "price_details",
            "unit_amount_decimal": str(line.unit_amount),
        },
        "subtotal": line.amount,
        "quantity_decimal": str(line.quantity),
    }


def render_item(templates: Templates, item: InvoiceItem) -> dict[str, Any]:
    price_details = None
    if item.price is not None:
        price_details = {"price": item.price, "product": item.product}
    return {
        **templates.invoiceitem,
        "amount": item.amount,
        "currency": item.currency,
        "customer": item.customer,
        "date": item.created,
        "description": item.description,
        "discountable": item.discountable,
        "discounts": [],
        "id": item.id,
        "invoice": item.invoice,
        "livemode": item.livemode,
        "metadata": dict(item.metadata),
        "object": "invoiceitem",
        "period": {"end": item.period_end, "start": item.period_start},
        "proration": False,
        "quantity": item.quantity,
        "tax_rates": [],
        "test_clock": None,
        "parent": None,
        "pricing": {
            "price_details": price_details,
            "type": "price_details",
            "unit_amount_decimal": str(item.unit_amount),
        },
        "net_amount": item.amount,
        "customer_account": None,
        "quantity_decimal": str(item.quantity),
    }

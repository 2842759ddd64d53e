"""Lines against the catalog (pure): what goes to Stripe, and what is refused before it."""

from __future__ import annotations

import pytest

from app.errors import AppError
from app.invoicing.catalog import CatalogPrice, price_from_stripe
from app.invoicing.lines import plan_lines, unknown_price_ids
from app.invoicing.models import MAX_AMOUNT, CatalogLine, CustomLine


def price(price_id: str, amount: int | None = 5000, currency: str = "usd", *, recurring: bool = False,
          active: bool = True) -> CatalogPrice:
    return CatalogPrice(price_id, f"Product {price_id}", amount, currency, recurring, "month" if recurring else None,
                        active)


CATALOG = {p.price_id: p for p in (
    price("price_usd"), price("price_jpy", 500, "jpy"), price("price_sub", recurring=True),
    price("price_old", active=False), price("price_tiered", None),
)}


def line(description: str = "Work", amount: int = 100, currency: str = "usd", quantity: int = 1) -> CustomLine:
    return CustomLine(description=description, unit_amount=amount, currency=currency, quantity=quantity)


def test_catalog_and_custom_lines_become_one_add_lines_payload() -> None:
    planned = plan_lines([CatalogLine(price_id="price_usd", quantity=2), line("Design", 1250, quantity=3)], CATALOG)
    assert planned.currency == "usd" and planned.total == 2 * 5000 + 3 * 1250
    assert planned.params == [
        {"pricing": {"price": "price_usd"}, "quantity": 2},
        {"price_data": {"currency": "usd", "unit_amount": 1250, "product_data": {"name": "Design"}},
         "description": "Design", "quantity": 3},
    ]


def test_zero_decimal_currencies_are_whole_units() -> None:
    planned = plan_lines([CatalogLine(price_id="price_jpy"), line(amount=300, currency="jpy")], CATALOG)
    assert planned.currency == "jpy" and planned.total == 800


@pytest.mark.parametrize(("lines", "field", "words"), [
    ([CatalogLine(price_id="price_nope")], "line_items.0.price_id", "no price"),
    ([CatalogLine(price_id="price_sub")], "line_items.0.price_id", "only one-time prices"),
    ([CatalogLine(price_id="price_old")], "line_items.0.price_id", "archived"),
    ([CatalogLine(price_id="price_tiered")], "line_items.0.price_id", "no fixed unit amount"),
    ([CatalogLine(price_id="price_usd"), line(currency="eur")], "line_items.1.currency", "single currency"),
    ([line(), CatalogLine(price_id="price_jpy")], "line_items.1.price_id", "single currency"),
    ([line(amount=MAX_AMOUNT), line(amount=1)], "line_items", "above Stripe's limit"),
])
def test_refusals_name_the_line(lines: list[CatalogLine | CustomLine], field: str, words: str) -> None:
    with pytest.raises(AppError) as caught:
        plan_lines(lines, CATALOG)
    assert field in caught.value.fields
    assert words in caught.value.message


def test_unknown_price_ids_are_listed_once_in_order() -> None:
    lines: list[CatalogLine | CustomLine] = [CatalogLine(price_id="price_b"), CatalogLine(price_id="price_usd"), CatalogLine(price_id="price_a"),
             CatalogLine(price_id="price_b"), line()]
    assert unknown_price_ids(lines, CATALOG) == ["price_b", "price_a"]


def test_stripe_prices_map_to_catalog_entries() -> None:
    entry = price_from_stripe({"id": "price_1", "active": True, "currency": "usd", "unit_amount": 990, "nickname": None,
                               "recurring": {"interval": "month"}, "product": {"id": "prod_1", "name": "Plan",
                                                                               "active": True}})
    assert (entry.product_name, entry.recurring, entry.interval, entry.invoiceable) == ("Plan", True, "month", False)
    archived_product = price_from_stripe({"id": "price_2", "active": True, "currency": "eur", "unit_amount": 5,
                                          "recurring": None, "product": {"id": "prod_2", "name": "X", "active": False}})
    assert not archived_product.invoiceable
    assert archived_product.to_json()["display"] == "€0.05"

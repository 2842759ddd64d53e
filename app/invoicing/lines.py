"""Turning the request's lines into Stripe `invoices.add_lines` params, checked against the catalog
(price exists, is active and one-time) and against each other (one currency, a total Stripe takes).
Pure: the catalog is passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import validation_error
from app.invoicing.catalog import CatalogPrice
from app.invoicing.models import MAX_AMOUNT, CatalogLine, CustomLine
from app.money import format_amount


@dataclass(frozen=True)
class PlannedLines:
    currency: str
    total: int  # minor units
    params: list[dict[str, Any]]  # one entry per line, in request order


def unknown_price_ids(lines: Sequence[CatalogLine | CustomLine], catalog: Mapping[str, CatalogPrice]) -> list[str]:
    """Catalog price ids the request uses that are not in `catalog` (distinct, in order)."""
    seen: dict[str, None] = {}
    for line in lines:
        if isinstance(line, CatalogLine) and line.price_id not in catalog:
            seen.setdefault(line.price_id)
    return list(seen)


def plan_lines(lines: Sequence[CatalogLine | CustomLine], catalog: Mapping[str, CatalogPrice]) -> PlannedLines:
    """Stripe line params for `lines`, or a validation error naming the line and field at fault."""
    currency: str | None = None
    total = 0
    params: list[dict[str, Any]] = []
    for index, line in enumerate(lines):
        if isinstance(line, CatalogLine):
            field = f"line_items.{index}.price_id"
            price = catalog.get(line.price_id)
            if price is None:
                raise validation_error(f"Line {index + 1}: there is no price {line.price_id} in your Stripe catalog.",
                                       **{field: "no such price"})
            _check_invoiceable(price, index, field)
            assert price.unit_amount is not None
            line_currency, unit = price.currency, price.unit_amount
            params.append({"pricing": {"price": price.price_id}, "quantity": line.quantity})
        else:
            field = f"line_items.{index}.currency"
            line_currency, unit = line.currency, line.unit_amount
            params.append({
                "price_data": {"currency": line.currency, "unit_amount": line.unit_amount,
                               "product_data": {"name": line.description}},
                "description": line.description,
                "quantity": line.quantity,
            })
        if currency is None:
            currency = line_currency
        elif line_currency != currency:
            raise validation_error(
                f"Line {index + 1} is in {line_currency.upper()} but the invoice is in {currency.upper()}: "
                "an invoice has a single currency.",
                **{field: f"must be {currency.upper()}, like the first line"},
            )
        total += unit * line.quantity
    assert currency is not None  # the request model guarantees at least one line
    if total > MAX_AMOUNT:
        raise validation_error(
            f"The invoice total would be {format_amount(total, currency)}, above Stripe's limit of "
            f"{format_amount(MAX_AMOUNT, currency)} per invoice.",
            line_items="total too large",
        )
    return PlannedLines(currency, total, params)


def _check_invoiceable(price: CatalogPrice, index: int, field: str) -> None:
    label = price.product_name or price.price_id
    if not price.active:
        raise validation_error(f"Line {index + 1}: the price for {label} is archived in Stripe.",
                               **{field: "price is not active"})
    if price.recurring:
        raise validation_error(
            f"Line {index + 1}: {label} is a recurring ({price.interval or 'subscription'}) price; "
            "only one-time prices can go on an invoice.",
            **{field: "recurring prices cannot be invoiced"},
        )
    if price.unit_amount is None:
        raise validation_error(f"Line {index + 1}: {label} has no fixed unit amount, so it cannot be invoiced as is.",
                               **{field: "price has no fixed amount"})

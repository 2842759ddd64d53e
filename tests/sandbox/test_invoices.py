# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Invoices through stripe-python: lines, the state machine and its refusals, lists."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from app.sandbox.server import RunningEmulator

FIXTURES = Path(__file__).parents[2] / "app" / "sandbox" / "fixtures"
DAY = 86_400


async def _customer(client: stripe.StripeClient, email: str = "inv@example.com") -> Any:
    return await client.v1.customers.create_async(params={"email": email, "name": "Inv Oice"})


async def _draft(client: stripe.StripeClient, customer_id: str, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "customer": customer_id,
        "collection_method": "send_invoice",
        "due_date": int(time.time()) + 7 * DAY,
        "auto_advance": False,
        "metadata": {"workspace": "w1"},
        **extra,
    }
    return await client.v1.invoices.create_async(params=params)


async def _catalog_price(client: stripe.StripeClient, amount: int = 1500,
                         currency: str = "usd") -> Any:
    product = await client.v1.products.create_async(params={"name": "Consulting hour"})
    return await client.v1.prices.create_async(
        params={"product": product.id, "unit_amount": amount, "currency": currency}
    )


async def test_full_lifecycle(client: stripe.StripeClient, emulator: RunningEmulator,
                              admin: httpx.AsyncClient) -> None:
    customer = await _customer(client)
    price = await _catalog_price(client)
    draft = await _draft(client, customer.id)
    assert (draft.status, draft.number, draft.total, draft.currency) == ("draft", None, 0, "usd")
    assert draft.customer_email == "inv@example.com"
    assert set(json.loads((FIXTURES / "invoice.json").read_text())) <= set(draft.to_dict())

    with_lines = await client.v1.invoices.add_lines_async(draft.id, params={"lines": [
        {"pricing": {"price": price.id}, "quantity": 2},
        {"price_data": {"currency": "usd", "unit_amount": 750,
                        "product_data": {"name": "Setup fee"}},
         "quantity": 1, "description": "One-off setup"},
    ]})
    assert (with_lines.subtotal, with_lines.total, with_lines.amount_due) == (3750, 3750, 3750)
    assert with_lines.amount_remaining == 3750
    lines = with_lines.lines.data
    assert [(li.amount, li.quantity, li.description) for li in lines] == [
        (3000, 2, "Consulting hour"), (750, 1, "One-off setup")]
    assert lines[0].pricing.price_details.price == price.id
    assert lines[1].pricing.price_details.price.startswith("price_")
    # inline prices and products do not join the active catalog
    active = await client.v1.prices.list_async(params={"active": True})
    assert [p.id for p in active.data] == [price.id]

    opened = await client.v1.invoices.finalize_invoice_async(draft.id)
    assert opened.status == "open"
    assert re.fullmatch(r"[A-Z0-9]{8}-0001", opened.number)
    assert opened.hosted_invoice_url == f"{emulator.base_url}/hosted/invoices/{draft.id}"
    assert opened.invoice_pdf == f"{emulator.base_url}/hosted/invoices/{draft.id}/pdf"
    assert opened.status_transitions.finalized_at is not None
    page = await admin.get(opened.hosted_invoice_url)
    assert page.status_code == 200
    assert opened.number in page.text and "37.50 USD" in page.text and "open" in page.text
    pdf = await admin.get(opened.invoice_pdf)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    sent = await client.v1.invoices.send_invoice_async(draft.id)
    assert sent.status == "open"
    paid = await client.v1.invoices.pay_async(draft.id, params={"paid_out_of_band": True})
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 3750, 0)
    assert paid.status_transitions.paid_at is not None

    second = await _draft(client, customer.id)
    await client.v1.invoices.add_lines_async(second.id, params={
        "lines": [{"pricing": {"price": price.id}, "quantity": 1}]})
    second_open = await client.v1.invoices.finalize_invoice_async(second.id)
    assert second_open.number.endswith("-0002")
    uncollectible = await client.v1.invoices.mark_uncollectible_async(second.id)
    assert uncollectible.status == "uncollectible"
    voided = await client.v1.invoices.void_invoice_async(second.id)
    assert voided.status == "void" and voided.status_transitions.voided_at is not None


async def test_forbidden_transitions(client: stripe.StripeClient) -> None:
    customer = await _customer(client)
    price = await _catalog_price(client)
    invoice = await _draft(client, customer.id)
    await client.v1.invoices.add_lines_async(invoice.id, params={
        "lines": [{"pricing": {"price": price.id}}]})

    async def refused(call: Any, code: str = "invoice_unexpected_status") -> str:
        with pytest.raises(stripe.InvalidRequestError) as error:
            await call
        assert error.value.http_status == 400 and error.value.code == code
        return str(error.value.user_message)

    # draft: no pay/void/send/mark_uncollectible
    await refused(client.v1.invoices.pay_async(invoice.id))
    await refused(client.v1.invoices.void_invoice_async(invoice.id))
    await refused(client.v1.invoices.send_invoice_async(invoice.id))
    await refused(client.v1.invoices.mark_uncollectible_async(invoice.id))

    await client.v1.invoices.finalize_invoice_async(invoice.id)
    # open: no re-finalize, no lines, no delete, no editing
    await refused(client.v1.invoices.finalize_invoice_async(invoice.id), "invoice_not_editable")
    await refused(client.v1.invoices.add_lines_async(invoice.id, params={
        "lines": [{"pricing": {"price": price.id}}]}), "invoice_not_editable")
    await refused(client.v1.invoices.delete_async(invoice.id), "invoice_not_editable")
    await refused(client.v1.invoices.update_async(invoice.id, params={"due_date": 4102444800}),
                  "invoice_not_editable")
    tagged = await client.v1.invoices.update_async(invoice.id, params={"metadata": {"k": "v"}})
    assert tagged.metadata.to_dict() == {"workspace": "w1", "k": "v"}

    await client.v1.invoices.void_invoice_async(invoice.id)
    # void is terminal
    message = await refused(client.v1.invoices.pay_async(invoice.id))
    assert "open or uncollectible" in message and "void" in message
    await refused(client.v1.invoices.mark_uncollectible_async(invoice.id))
    await refused(client.v1.invoices.void_invoice_async(invoice.id))

    paid = await _draft(client, customer.id)
    await client.v1.invoices.add_lines_async(paid.id, params={
        "lines": [{"pricing": {"price": price.id}}]})
    await client.v1.invoices.finalize_invoice_async(paid.id)
    await client.v1.invoices.pay_async(paid.id)
    # paid is terminal
    await refused(client.v1.invoices.void_invoice_async(paid.id))
    await refused(client.v1.invoices.pay_async(paid.id))
    await refused(client.v1.invoices.mark_uncollectible_async(paid.id))


async def test_create_validation(client: stripe.StripeClient) -> None:
    customer = await _customer(client)
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.invoices.create_async(params={})
    assert (error.value.code, error.value.param) == ("parameter_missing", "customer")
    with pytest.raises(stripe.InvalidRequestError) as error:
        await _draft(client, customer.id, due_date=int(time.time()) - 60)
    assert error.value.param == "due_date"
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.invoices.create_async(params={
            "customer": customer.id, "collection_method": "send_invoice"})
    assert error.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.invoices.create_async(params={"customer": "cus_nobody"})
    assert (error.value.code, error.value.param) == ("resource_missing", "customer")

    by_days = await client.v1.invoices.create_async(params={
        "customer": customer.id, "collection_method": "send_invoice", "days_until_due": 30})
    assert by_days.due_date == by_days.created + 30 * DAY


async def test_add_lines_rules(client: stripe.StripeClient) -> None:
    customer = await _customer(client)
    eur_price = await _catalog_price(client, 900, "eur")
    invoice = await _draft(client, customer.id)
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
            {"pricing": {"price": eur_price.id}},
            {"price_data": {"currency": "usd", "unit_amount": 100,
                            "product_data": {"name": "x"}}},
        ]})
    assert error.value.param == "lines[1][price_data][currency]"
    unchanged = await client.v1.invoices.retrieve_async(invoice.id)
    assert unchanged.lines.data == []  # the refused call added nothing

    euros = await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
        {"pricing": {"price": eur_price.id}, "quantity": 3}]})
    assert (euros.currency, euros.total) == ("eur", 2700)
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
            {"price_data": {"currency": "usd", "unit_amount": 5, "product_data": {"name": "y"}}}
        ]})
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
            {"pricing": {"price": "price_missing"}}]})
    assert error.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
            {"quantity": 1}]})
    assert error.value.code == "parameter_missing"

    yen = await client.v1.invoices.create_async(params={
        "customer": customer.id, "collection_method": "send_invoice", "days_until_due": 1})
    yen = await client.v1.invoices.add_lines_async(yen.id, params={"lines": [
        {"price_data": {"currency": "JPY", "unit_amount": 500, "product_data": {"name": "z"}},
         "quantity": 2}]})
    assert (yen.currency, yen.amount_due) == ("jpy", 1000)


async def test_delete_draft_and_lines_paging(client: stripe.StripeClient) -> None:
    customer = await _customer(client)
    invoice = await _draft(client, customer.id)
    many = await client.v1.invoices.add_lines_async(invoice.id, params={"lines": [
        {"price_data": {"currency": "usd", "unit_amount": 100 + i,
                        "product_data": {"name": f"item {i}"}}}
        for i in range(12)
    ]})
    assert len(many.lines.data) == 10 and many.lines.has_more is True
    first = await client.v1.invoices.line_items.list_async(invoice.id, params={"limit": 5})
    all_lines = [li.id async for li in first.auto_paging_iter()]
    assert len(all_lines) == 12 and all_lines[0] == many.lines.data[0].id

    deleted = await client.v1.invoices.delete_async(invoice.id)
    assert (deleted.id, deleted.deleted) == (invoice.id, True)
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.invoices.retrieve_async(invoice.id)
    assert error.value.http_status == 404
    assert f"No such invoice: '{invoice.id}'" in str(error.value.user_message)


async def test_list_filters(client: stripe.StripeClient) -> None:
    alice = await _customer(client, "alice@example.com")
    bob = await _customer(client, "bob@example.com")
    price = await _catalog_price(client)
    ids = []
    for customer in (alice, bob, alice):
        draft = await _draft(client, customer.id)
        ids.append(draft.id)
    await client.v1.invoices.add_lines_async(ids[0], params={
        "lines": [{"pricing": {"price": price.id}}]})
    await client.v1.invoices.finalize_invoice_async(ids[0])

    everything = await client.v1.invoices.list_async()
    assert [i.id for i in everything.data] == ids[::-1]
    alices = await client.v1.invoices.list_async(params={"customer": alice.id})
    assert [i.id for i in alices.data] == [ids[2], ids[0]]
    drafts = await client.v1.invoices.list_async(params={"status": "draft"})
    assert [i.id for i in drafts.data] == [ids[2], ids[1]]
    created = everything.data[0].created
    later = await client.v1.invoices.list_async(params={"created": {"gt": created}})
    assert later.data == []
    window = await client.v1.invoices.list_async(params={"created": {"gte": created - 60,
                                                                     "lte": created}})
    assert len(window.data) == 3


async def test_zero_total_invoice_is_paid_on_finalize(client: stripe.StripeClient) -> None:
    customer = await _customer(client)
    invoice = await _draft(client, customer.id)
    finalized = await client.v1.invoices.finalize_invoice_async(invoice.id)
    assert (finalized.status, finalized.amount_due, finalized.number is not None) == (
        "paid", 0, True)

"""POST /api/actions/create-invoice against the emulator: who gets billed, what Stripe holds, and
how many Stripe calls it took (counted from the emulator's request log)."""

from __future__ import annotations

from typing import Any

from app.invoicing.catalog import catalog_cache
from tests.invoicing.conftest import Billing, custom, due


def stripe_invoice(billing: Billing, invoice_id: str) -> Any:
    return billing.emulator.state.account(billing.account_id).invoices.get(invoice_id)


def stripe_customer(billing: Billing, customer_id: str) -> Any:
    return billing.emulator.state.account(billing.account_id).customers.get(customer_id)


async def test_person_invoice_is_finalized_for_their_email(billing: Billing) -> None:
    r = await billing.create({"object": "people", "record_id": billing.seed.lone_person,
                              "line_items": [custom("Design sprint", 250_000, quantity=2)],
                              "due_date": due(14), "send_email": False})
    assert r.status_code == 201, r.text
    body = r.json()
    assert {"invoice_id", "number", "status", "amount_due", "currency", "hosted_invoice_url", "customer_id",
            "customer_created"} <= set(body)
    assert body["status"] == "open" and body["amount_due"] == 500_000 and body["currency"] == "usd"
    assert body["number"] and body["hosted_invoice_url"].endswith(body["invoice_id"])
    assert body["customer_created"] is True and body["email_sent"] is False
    invoice = stripe_invoice(billing, body["invoice_id"])
    assert invoice.collection_method == "send_invoice" and invoice.auto_advance is False
    assert invoice.sent_count == 0
    assert invoice.metadata == {"workspace_id": billing.ws, "crm_object": "people",
                                "crm_record_id": billing.seed.lone_person, "crm_person_id": billing.seed.lone_person}
    customer = stripe_customer(billing, body["customer_id"])
    assert (customer.email, customer.name) == ("ada@example.test", "Ada Lovelace")


async def test_company_invoice_defaults_to_the_main_contact(billing: Billing) -> None:
    r = await billing.create({"object": "companies", "record_id": billing.seed.company,
                              "line_items": [{"price_id": billing.seed.one_time_usd, "quantity": 1}],
                              "due_date": due(), "send_email": True})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["customer_email"] == "hank@globex.test"  # normalised from Hank@Globex.test
    assert body["email_sent"] is True and body["amount_due"] == 50_000
    invoice = stripe_invoice(billing, body["invoice_id"])
    assert invoice.sent_count == 1
    assert invoice.metadata["crm_object"] == "companies" and invoice.metadata["crm_person_id"] == billing.seed.main_contact


async def test_company_invoice_goes_to_the_chosen_person(billing: Billing) -> None:
    r = await billing.create({"object": "companies", "record_id": billing.seed.company,
                              "person_record_id": billing.seed.other_person,
                              "line_items": [{"price_id": billing.seed.one_time_usd, "quantity": 1}, custom()],
                              "due_date": due(), "send_email": False})
    assert r.status_code == 201, r.text
    assert r.json()["customer_email"] == "marge@globex.test"
    assert stripe_invoice(billing, r.json()["invoice_id"]).metadata["crm_person_id"] == billing.seed.other_person


async def test_with_sync_on_the_crm_record_is_written_right_away(billing: Billing) -> None:
    await billing.with_sync()
    r = await billing.create({"object": "people", "record_id": billing.seed.lone_person,
                              "line_items": [custom(unit_amount=1234)], "due_date": due(), "send_email": False})
    body = r.json()
    assert body["crm_sync"] == "created" and body["crm_record_id"]
    record = await billing.crm.find_record("stripe_invoices", "stripe_invoice_id", body["invoice_id"])
    assert record is not None
    assert record.values["status"] == "open" and record.values["amount_due"] == 12.34
    assert record.values["person"] == billing.seed.lone_person


async def test_stripe_calls_do_not_grow_with_lines(billing: Billing) -> None:
    """New customer: lookup, create, draft, lines, finalize (+1 catalog read when cold) <= 6;
    existing customer <= 5; emailing adds exactly one. Same counts for 1, 5 and 50 lines, and
    mirroring to the CRM (sync on) costs no Stripe call."""
    await billing.with_sync()
    people = [billing.seed.lone_person, billing.seed.main_contact, billing.seed.other_person]
    for lines, person in zip((1, 5, 50), people, strict=True):
        items = [{"price_id": billing.seed.one_time_usd, "quantity": 1}] + [custom(f"Item {i}") for i in range(lines - 1)]
        catalog_cache(billing.ctx).invalidate()
        request = {"object": "people", "record_id": person, "line_items": items, "due_date": due(), "send_email": False}

        mark = billing.mark()
        r = await billing.create(request)
        assert r.status_code == 201 and r.json()["customer_created"] is True
        assert r.json()["crm_sync"] == "created"
        calls = billing.calls_since(mark)
        assert [c.split(" /v1/")[1].split("/")[0] for c in calls] == [
            "prices", "customers", "customers", "invoices", "invoices", "invoices"], calls
        assert len(calls) == 6

        mark = billing.mark()
        r = await billing.create(request)  # existing customer, warm catalog
        assert r.status_code == 201 and r.json()["customer_created"] is False
        assert len(billing.calls_since(mark)) == 4, billing.calls_since(mark)

        catalog_cache(billing.ctx).invalidate()
        mark = billing.mark()
        r = await billing.create({**request, "send_email": True})  # existing, cold, emailed
        assert r.status_code == 201 and r.json()["email_sent"] is True
        calls = billing.calls_since(mark)
        assert len(calls) == 6 and calls[-1].endswith("/send"), calls
        assert r.json()["amount_due"] == 50_000 + 12_000 * (lines - 1)


async def test_customer_name_follows_the_crm(billing: Billing) -> None:
    gateway = billing.ctx.stripe.for_key(billing.key)
    await gateway.create_customer({"email": "ada@example.test", "name": "A. King"}, "seed-ada")
    r = await billing.create({"object": "people", "record_id": billing.seed.lone_person,
                              "line_items": [custom()], "due_date": due(), "send_email": False})
    assert r.status_code == 201 and r.json()["customer_created"] is False
    assert stripe_customer(billing, r.json()["customer_id"]).name == "Ada Lovelace"


async def test_context_lists_recipients_and_invoiceable_prices(billing: Billing) -> None:
    r = await billing.client.get("/api/actions/create-invoice/context",
                                 params={"object": "companies", "record_id": billing.seed.company}, headers=billing.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["record"] == {"id": billing.seed.company, "name": "Globex"}
    assert body["default_recipient_id"] == billing.seed.main_contact
    assert [(p["name"], p["main_contact"]) for p in body["recipients"]] == [("Hank Scorpio", True),
                                                                           ("Marge Simpson", False)]
    prices = {p["price_id"]: p for p in body["catalog"]}
    assert prices[billing.seed.one_time_usd]["invoiceable"] is True
    assert prices[billing.seed.one_time_usd]["display"] == "$500.00"
    assert prices[billing.seed.recurring_usd]["invoiceable"] is False
    assert billing.seed.archived_usd not in prices
    assert billing.key not in r.text
    assert body["stripe_connected"] is True and body["catalog_error"] is None


async def test_context_for_a_missing_record_is_404(billing: Billing) -> None:
    r = await billing.client.get("/api/actions/create-invoice/context",
                                 params={"object": "people", "record_id": "rec_missing"}, headers=billing.headers)
    assert r.status_code == 404 and "No person" in r.json()["error"]["message"]


async def test_dialog_page_renders_for_a_session_and_asks_others_to_sign_in(billing: Billing) -> None:
    path = f"/actions/create-invoice?object=companies&record_id={billing.seed.company}"
    r = await billing.client.get(path)
    assert r.status_code == 401 and "/login?next=%2Factions%2Fcreate-invoice" in r.text
    login = await billing.client.get(f"/login?token={billing.workspace.operator_token}&next=/crm")
    assert login.status_code == 303
    r = await billing.client.get(path + "&embed=1")
    assert r.status_code == 200
    assert "Hank Scorpio" in r.text and "Finalize and email" in r.text and 'id="invoice-context"' in r.text
    assert 'class="topbar"' not in r.text  # embedded: no navigation
    assert billing.key not in r.text
    full = await billing.client.get(path)
    assert 'class="topbar"' in full.text

"""`ensure_schema` / `check_schema` against the stateful fake Attio."""

from __future__ import annotations

import json
from pathlib import Path

from schema_mapping.mapping import SchemaMapping
from schema_mapping.setup import SchemaReport, check_schema, ensure_schema
from schema_mapping.spec import FIELD_KEYS, INVOICE_STATUSES
from schema_mapping.values import invoice_to_values
from tests.crm.attio.fake_attio import FakeAttio, make_attio_crm

INVOICE = Path(__file__).resolve().parents[2] / "data" / "stripe" / "invoice.json"


def statuses(report: SchemaReport) -> dict[str, str]:
    return {a.slug: a.status for a in report.attributes}


def attio_type(fake: FakeAttio, slug: str, obj: str = "stripe_invoices") -> str:
    return fake.objects[obj].attributes[slug].type


async def test_empty_workspace() -> None:
    fake = FakeAttio()
    report = await ensure_schema(make_attio_crm(fake), SchemaMapping.default())
    assert report.ok and report.object_status == "created"
    assert statuses(report) == {key: "created" for key in FIELD_KEYS}
    by_slug = {a.slug: a for a in report.attributes}
    assert by_slug["status"].options_added == list(INVOICE_STATUSES)
    assert by_slug["hosted_invoice_url"].actual_type == "text"
    obj = fake.objects["stripe_invoices"]
    assert (obj.json["singular_noun"], obj.json["plural_noun"]) == ("Stripe invoice", "Stripe invoices")
    assert [o["title"] for o in obj.attributes["status"].options] == list(INVOICE_STATUSES)
    assert obj.attributes["stripe_invoice_id"].json["is_unique"]
    assert attio_type(fake, "amount_due") == "number"
    assert attio_type(fake, "customer_email") == "text"
    assert attio_type(fake, "due_date") == "date"
    assert attio_type(fake, "paid_at") == "timestamp"
    assert attio_type(fake, "livemode") == "checkbox"
    person = obj.attributes["person"].json
    assert person["type"] == "record-reference"
    assert person["config"]["record_reference"]["allowed_object_ids"] == [fake.objects["people"].id]


async def test_second_run_writes_nothing() -> None:
    fake = FakeAttio()
    crm = make_attio_crm(fake)
    await ensure_schema(crm, SchemaMapping.default())
    fake.clear_log()
    again = await ensure_schema(make_attio_crm(fake), SchemaMapping.default())
    assert fake.writes == []
    assert again.ok and again.object_status == "present"
    assert statuses(again) == {key: "present" for key in FIELD_KEYS}
    assert all(a.options_added == [] for a in again.attributes)


async def test_object_with_half_the_attributes() -> None:
    fake = FakeAttio()
    fake.add_object("stripe_invoices", "Invoice", "Invoices")
    fake.add_attribute("stripe_invoices", "stripe_invoice_id", "text", unique=True)
    fake.add_attribute("stripe_invoices", "number", "text")
    fake.add_attribute("stripe_invoices", "status", "select", options=("open", "paid"))
    fake.add_attribute("stripe_invoices", "amount_due", "number")
    fake.add_attribute("stripe_invoices", "currency", "text")
    fake.add_attribute("stripe_invoices", "hosted_invoice_url", "text")
    fake.add_attribute("stripe_invoices", "person", "record-reference", target_object="people")
    fake.add_attribute("stripe_invoices", "paid_at", "timestamp")
    existing = {
        "stripe_invoice_id",
        "number",
        "status",
        "amount_due",
        "currency",
        "hosted_invoice_url",
        "person",
        "paid_at",
    }
    report = await ensure_schema(make_attio_crm(fake), SchemaMapping.default())
    assert report.ok and report.object_status == "present"
    assert statuses(report) == {key: "present" if key in existing else "created" for key in FIELD_KEYS}
    status = next(a for a in report.attributes if a.slug == "status")
    assert status.options_added == ["draft", "void", "uncollectible"]
    obj = fake.objects["stripe_invoices"]
    assert obj.json["singular_noun"] == "Invoice"  # the object is reused, never changed
    assert [o["title"] for o in obj.attributes["status"].options] == ["open", "paid", "draft", "void", "uncollectible"]
    fake.clear_log()
    again = await ensure_schema(make_attio_crm(fake), SchemaMapping.default())
    assert fake.writes == [] and statuses(again) == {key: "present" for key in FIELD_KEYS}


async def test_conflicting_attributes_are_reported_not_overwritten() -> None:
    fake = FakeAttio()
    fake.add_object("stripe_invoices", "Stripe invoice", "Stripe invoices")
    fake.add_attribute("stripe_invoices", "amount_due", "text")
    fake.add_attribute("stripe_invoices", "stripe_invoice_id", "text")  # not unique
    fake.add_attribute("stripe_invoices", "person", "record-reference", target_object="companies")
    fake.add_attribute("stripe_invoices", "status", "currency")
    before = {slug: dict(a.json) for slug, a in fake.objects["stripe_invoices"].attributes.items()}
    report = await ensure_schema(make_attio_crm(fake), SchemaMapping.default())
    assert not report.ok
    by_slug = {a.slug: a for a in report.attributes}
    assert {a.slug for a in report.conflicts} == {"amount_due", "stripe_invoice_id", "person", "status"}
    amount = by_slug["amount_due"]
    assert (amount.expected_type, amount.actual_type) == ("number", "text")
    assert amount.detail == "expected type number, found text"
    assert by_slug["stripe_invoice_id"].detail == "must be unique (records are matched on it)"
    assert by_slug["person"].detail == "references companies, expected people"
    assert (by_slug["status"].expected_type, by_slug["status"].actual_type) == ("select", "currency")
    assert by_slug["status"].options_added == []
    after = fake.objects["stripe_invoices"].attributes
    for slug, json_before in before.items():
        assert after[slug].json == json_before
    assert by_slug["amount_paid"].status == "created"
    # Still a conflict, still nothing written for it, on the next run.
    fake.clear_log()
    again = await ensure_schema(make_attio_crm(fake), SchemaMapping.default())
    assert fake.writes == [] and {a.slug for a in again.conflicts} == {a.slug for a in report.conflicts}


async def test_a_slug_of_another_type_from_attio_itself() -> None:
    fake = FakeAttio()
    mapping = SchemaMapping(object_slug="people", customer_email="email_addresses", person="company", number="name")
    report = await ensure_schema(make_attio_crm(fake), mapping)
    by_slug = {a.slug: a for a in report.attributes}
    # Attio's built-in email-address attribute is an email attribute in our terms.
    assert (by_slug["email_addresses"].status, by_slug["email_addresses"].actual_type) == ("present", "email")
    # A personal-name attribute has no equivalent of ours: reported under its Attio name.
    assert (by_slug["name"].status, by_slug["name"].actual_type) == ("conflict", "personal-name")
    assert by_slug["name"].detail == "expected type text, found personal-name"
    assert by_slug["company"].detail == "references companies, expected people"


async def test_mapped_slugs_are_created() -> None:
    fake = FakeAttio()
    mapping = SchemaMapping(object_slug="invoices", status="invoice_status", amount_due="due")
    report = await ensure_schema(make_attio_crm(fake), mapping)
    assert report.ok and report.object_slug == "invoices"
    attrs = fake.objects["invoices"].attributes
    assert "invoice_status" in attrs and "due" in attrs and "status" not in attrs


async def test_check_schema_reads_only() -> None:
    fake = FakeAttio()
    crm = make_attio_crm(fake)
    empty = await check_schema(crm, SchemaMapping.default())
    assert not empty.ok and empty.object_status == "missing"
    assert statuses(empty) == {key: "missing" for key in FIELD_KEYS}
    assert fake.writes == []
    fake.add_object("stripe_invoices", "Stripe invoice", "Stripe invoices")
    fake.add_attribute("stripe_invoices", "status", "select", options=("open",))
    partial = await check_schema(crm, SchemaMapping.default())
    status = next(a for a in partial.attributes if a.slug == "status")
    assert status.status == "present" and status.options_missing == ["draft", "paid", "void", "uncollectible"]
    assert not partial.ok and fake.writes == []
    await ensure_schema(crm, SchemaMapping.default())
    fake.clear_log()
    healthy = await check_schema(crm, SchemaMapping.default())
    assert healthy.ok and fake.writes == []


async def test_invoices_sync_into_the_new_object() -> None:
    fake = FakeAttio()
    crm = make_attio_crm(fake)
    mapping = SchemaMapping.default()
    await ensure_schema(crm, mapping)
    ada = fake.add_person("Ada", ["ada@example.com"])
    invoice = json.loads(INVOICE.read_text())
    invoice.update(customer_email="ada@example.com", hosted_invoice_url="https://invoice.stripe.com/i/x")
    first = await crm.upsert_record("stripe_invoices", "stripe_invoice_id", invoice_to_values(invoice, mapping, ada))
    assert first.created
    invoice.update(status="paid", amount_paid=1000, amount_remaining=0)
    invoice["status_transitions"]["paid_at"] = 1735689599
    second = await crm.upsert_record("stripe_invoices", "stripe_invoice_id", invoice_to_values(invoice, mapping, ada))
    assert not second.created and second.record.id == first.record.id
    assert second.record.values == invoice_to_values(invoice, mapping, ada)
    records, total = await crm.list_records("stripe_invoices")
    assert total == 1 and records[0].values["paid_at"] == "2024-12-31T23:59:59Z"

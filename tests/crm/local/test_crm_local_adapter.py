"""LocalCRM against a real database (SQLite and Postgres): the `CRM` protocol and the extras."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.crm.local.adapter import LocalCRM
from app.crm.protocol import AttributeSpec, Record
from app.errors import AppError, ErrorCode
from app.store import Store
from app.store.crm_tables import crm_attributes, crm_objects, crm_records, crm_references, crm_unique_values
from app.store.workspaces import create_workspace, delete_workspace_rows


async def test_standard_objects_exist_on_first_use(crm: LocalCRM) -> None:
    people = await crm.get_object("people")
    assert people is not None and people.plural == "People"
    assert await crm.get_object("companies") is not None
    assert await crm.get_object("deals") is None
    specs = {a.slug: a for a in await crm.list_attributes("people")}
    assert specs["email_addresses"].unique and specs["email_addresses"].type == "email"
    assert specs["company"].target_object == "companies"
    main_contact = {a.slug: a for a in await crm.list_attributes("companies")}["main_contact"]
    assert main_contact.type == "record-reference" and main_contact.target_object == "people"
    assert [o.slug for o in await crm.list_objects()] == ["people", "companies"]


async def test_company_with_people_and_main_contact(crm: LocalCRM) -> None:
    acme = await crm.create_company("Acme", "ACME.com ")
    assert acme.domain == "acme.com"
    ann = await crm.create_person("Ann", "ann@acme.com", acme.id)
    bob = await crm.create_person("Bob", "bob@acme.com", acme.id, main_contact=True)
    await crm.create_person("Cy", "cy@elsewhere.org")

    company = await crm.get_company(acme.id)
    assert company is not None
    assert [p.id for p in company.people] == [ann.id, bob.id]
    assert company.main_contact_id == bob.id
    assert (await crm.get_person(bob.id)) == bob
    assert bob.company_id == acme.id and bob.primary_email == "bob@acme.com"

    people, total = await crm.list_people(limit=2)
    assert total == 3 and [p.name for p in people] == ["Ann", "Bob"]
    companies, total = await crm.list_companies()
    assert total == 1 and companies[0].main_contact_id == bob.id


async def test_person_references_must_exist(crm: LocalCRM, store: Store) -> None:
    with pytest.raises(AppError) as caught:
        await crm.create_person("Ann", "ann@acme.com", "rec_doesnotexist")
    assert caught.value.code is ErrorCode.CRM_INVALID_REQUEST and "company" in caught.value.fields
    with pytest.raises(AppError):
        await crm.create_person("Ann", "ann@acme.com", main_contact=True)  # no company to lead
    person = await crm.create_person("Ann", "ann@acme.com")
    with pytest.raises(AppError) as caught:  # a person is not a company
        await crm.create_person("Bob", "bob@acme.com", person.id)
    assert "companies" in caught.value.message


async def test_find_person_by_email_is_case_insensitive(crm: LocalCRM) -> None:
    ann = await crm.create_person("Ann", "Ann.Lee@Example.COM")
    assert ann.emails == ("ann.lee@example.com",)
    assert await crm.find_person_by_email("ann.lee@example.com") == ann
    assert await crm.find_person_by_email("  ANN.LEE@EXAMPLE.com ") == ann
    assert await crm.find_person_by_email("someone@example.com") is None
    assert await crm.find_person_by_email("") is None


async def test_an_email_belongs_to_one_person(crm: LocalCRM) -> None:
    ann = await crm.create_person("Ann", "ann@example.com")
    with pytest.raises(AppError) as caught:
        await crm.create_person("Impostor", "ANN@example.com")
    assert caught.value.code is ErrorCode.CONFLICT and ann.id in caught.value.message
    # A second address for Ann is found too; giving it to someone else is refused.
    await crm.update_record("people", ann.id, {"email_addresses": ["ann@example.com", "ann@home.net"]})
    assert (await crm.find_person_by_email("Ann@Home.net")) is not None
    bob = await crm.create_person("Bob", "bob@example.com")
    with pytest.raises(AppError) as caught:
        await crm.update_record("people", bob.id, {"email_addresses": ["ann@home.net"]})
    assert caught.value.code is ErrorCode.CONFLICT
    # Dropping an address frees it.
    await crm.update_record("people", ann.id, {"email_addresses": ["ann@example.com"]})
    await crm.update_record("people", bob.id, {"email_addresses": ["bob@example.com", "ann@home.net"]})
    assert (await crm.find_person_by_email("ann@home.net")) == await crm.get_person(bob.id)


async def test_upsert_person_by_email_keeps_their_other_addresses(crm: LocalCRM) -> None:
    ann = await crm.create_person("Ann", "ann@example.com")
    await crm.update_record("people", ann.id, {"email_addresses": ["ann@example.com", "ann@home.net"]})
    result = await crm.upsert_record("people", "email_addresses", {"email_addresses": "ANN@home.net", "name": "Ann Lee"})
    assert not result.created and result.record.id == ann.id
    assert result.record.values["email_addresses"] == ["ann@example.com", "ann@home.net"]
    assert result.record.values["name"] == "Ann Lee"


async def make_deals(crm: LocalCRM) -> None:
    info, created = await crm.ensure_object("deals", "Deal", "Deals")
    assert created and info.slug == "deals"
    for spec in (
        AttributeSpec("key", "Key", "text", unique=True),
        AttributeSpec("stage", "Stage", "select", options=("lead", "won")),
        AttributeSpec("amount", "Amount", "currency"),
        AttributeSpec("close_date", "Close date", "date"),
        AttributeSpec("closed_at", "Closed at", "timestamp"),
        AttributeSpec("signed", "Signed", "checkbox"),
        AttributeSpec("contact", "Contact", "record-reference", target_object="people"),
        AttributeSpec("owner_email", "Owner email", "email"),
        AttributeSpec("link", "Link", "url"),
        AttributeSpec("seats", "Seats", "number"),
    ):
        assert await crm.create_attribute("deals", spec) == spec


async def test_custom_deals_object_with_a_stage_select(crm: LocalCRM) -> None:
    await make_deals(crm)
    ann = await crm.create_person("Ann", "ann@example.com")
    values: dict[str, Any] = {
        "key": "D-1", "stage": "lead", "amount": "1234.50", "close_date": "2024-06-30",
        "closed_at": "2024-06-30T10:00:00+02:00", "signed": False, "contact": ann.id,
        "owner_email": "Owner@Example.com", "link": "https://crm.example/d/1", "seats": 12,
    }
    first = await crm.upsert_record("deals", "key", values)
    assert first.created
    assert first.record.values == {
        **values, "amount": 1234.5, "closed_at": "2024-06-30T08:00:00Z", "owner_email": "owner@example.com"
    }
    again = await crm.upsert_record("deals", "key", {"key": "D-1", "stage": "won", "signed": True})
    assert not again.created and again.record.id == first.record.id
    assert again.record.values["stage"] == "won" and again.record.values["amount"] == 1234.5

    with pytest.raises(AppError) as caught:
        await crm.upsert_record("deals", "key", {"key": "D-2", "stage": "lost"})
    assert caught.value.code is ErrorCode.CRM_INVALID_REQUEST and "stage" in caught.value.fields
    assert await crm.ensure_select_options("deals", "stage", ("won", "lost", "lost")) == ["lost"]
    assert await crm.ensure_select_options("deals", "stage", ("lost",)) == []
    await crm.upsert_record("deals", "key", {"key": "D-2", "stage": "lost"})

    assert (await crm.find_record("deals", "key", "D-1")) == again.record
    assert (await crm.find_record("deals", "stage", "lost")).id != first.record.id  # type: ignore[union-attr]
    assert (await crm.find_record("deals", "seats", 12)) == again.record
    assert (await crm.find_record("deals", "signed", True)) == again.record
    assert await crm.find_record("deals", "key", "D-9") is None
    records, total = await crm.list_records("deals", limit=1, offset=1)
    assert total == 2 and records[0].values["key"] == "D-2"
    stage = {a.slug: a for a in await crm.list_attributes("deals")}["stage"]
    assert stage.options == ("lead", "won", "lost")


async def test_invalid_values_name_the_attribute(crm: LocalCRM) -> None:
    await make_deals(crm)
    for values, bad in (
        ({"key": "x", "amount": "a lot"}, "amount"),
        ({"key": "x", "close_date": "30/06/2024"}, "close_date"),
        ({"key": "x", "closed_at": "2024-06-30"}, "closed_at"),
        ({"key": "x", "signed": "yes"}, "signed"),
        ({"key": "x", "owner_email": "nobody"}, "owner_email"),
        ({"key": "x", "link": "ftp://x"}, "link"),
        ({"key": "x", "contact": "rec_missing"}, "contact"),
        ({"key": "x", "colour": "red"}, "colour"),
    ):
        with pytest.raises(AppError) as caught:
            await crm.upsert_record("deals", "key", values)
        assert caught.value.code is ErrorCode.CRM_INVALID_REQUEST
        assert bad in caught.value.fields and f"'{bad}'" in caught.value.message
    with pytest.raises(AppError):
        await crm.upsert_record("deals", "stage", {"stage": "won"})  # not a unique attribute
    assert (await crm.list_records("deals"))[1] == 0


async def test_schema_rules(crm: LocalCRM) -> None:
    await crm.ensure_object("deals", "Deal", "Deals")
    info, created = await crm.ensure_object("deals", "Opportunity", "Opportunities")
    assert not created and info.singular == "Deal"  # never changed
    info, created = await crm.ensure_object("people", "Human", "Humans")
    assert not created and info.plural == "People"
    with pytest.raises(AppError) as caught:
        await crm.create_object("deals", "Deal", "Deals")
    assert caught.value.code is ErrorCode.CONFLICT
    spec = AttributeSpec("stage", "Stage", "select", options=("a",))
    await crm.create_attribute("deals", spec)
    with pytest.raises(AppError) as caught:
        await crm.create_attribute("deals", AttributeSpec("stage", "Stage 2", "text"))
    assert caught.value.code is ErrorCode.CONFLICT
    with pytest.raises(AppError) as caught:
        await crm.create_attribute("people", AttributeSpec("name", "Name", "text"))
    assert caught.value.code is ErrorCode.CONFLICT
    for bad in (
        AttributeSpec("Bad Slug", "X", "text"),
        AttributeSpec("ref", "Ref", "record-reference", target_object="nowhere"),
        AttributeSpec("flag", "Flag", "checkbox", unique=True),
        AttributeSpec("colour", "Colour", "text", options=("red",)),
    ):
        with pytest.raises(AppError) as caught:
            await crm.create_attribute("deals", bad)
        assert caught.value.code is ErrorCode.CRM_INVALID_REQUEST
    with pytest.raises(AppError) as caught:
        await crm.create_attribute("nothing", AttributeSpec("x", "X", "text"))
    assert caught.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(AppError):
        await crm.ensure_select_options("deals", "missing", ("x",))


async def test_update_record_reports_to_the_observer(store: Store, crm: LocalCRM) -> None:
    seen: list[tuple[str, str, Record, dict[str, Any]]] = []

    async def observer(workspace_id: str, object_slug: str, record: Record, previous: dict[str, Any]) -> None:
        seen.append((workspace_id, object_slug, record, previous))

    watched = LocalCRM(store, crm.workspace_id, on_record_updated=observer)
    acme = await watched.create_company("Acme")
    assert seen == []  # creations are not updates
    record, previous = await watched.update_record("companies", acme.id, {"domain": "acme.com"})
    assert previous == {"name": "Acme"} and record.values == {"name": "Acme", "domain": "acme.com"}
    assert seen == [(crm.workspace_id, "companies", record, {"name": "Acme"})]
    await watched.update_record("companies", acme.id, {"domain": "acme.com"})
    assert len(seen) == 1  # nothing changed, nothing reported
    bob = await watched.create_person("Bob", "bob@acme.com", acme.id, main_contact=True)
    assert seen[-1][2].values["main_contact"] == bob.id  # the company update went through the same path
    await watched.update_record("companies", acme.id, {"domain": None})
    assert "domain" not in seen[-1][2].values and seen[-1][3]["domain"] == "acme.com"

    async def broken(*_: Any) -> None:
        raise RuntimeError("observer down")

    record, _ = await LocalCRM(store, crm.workspace_id, on_record_updated=broken).update_record(
        "companies", acme.id, {"name": "Acme Corp"}
    )
    assert (await crm.get_record("companies", acme.id)) == record  # committed despite the observer
    with pytest.raises(AppError) as caught:
        await watched.update_record("companies", "rec_nope", {"name": "x"})
    assert caught.value.code is ErrorCode.NOT_FOUND


async def test_workspaces_do_not_see_each_other(store: Store, crm: LocalCRM) -> None:
    other = LocalCRM(store, (await create_workspace(store, "Other")).workspace_id)
    acme = await crm.create_company("Acme")
    ann = await crm.create_person("Ann", "ann@example.com", acme.id)
    assert await other.get_person(ann.id) is None
    assert await other.get_company(acme.id) is None
    assert await other.get_record("people", ann.id) is None
    assert await other.find_person_by_email("ann@example.com") is None
    assert (await other.list_people())[1] == 0
    twin = await other.create_person("Ann", "ann@example.com")  # the same email is fine elsewhere
    assert twin.id != ann.id
    with pytest.raises(AppError):
        await other.create_person("Bob", "bob@example.com", acme.id)  # cannot link across workspaces
    with pytest.raises(AppError) as caught:
        await other.update_record("people", ann.id, {"name": "Hijacked"})
    assert caught.value.code is ErrorCode.NOT_FOUND
    await crm.ensure_object("deals", "Deal", "Deals")
    assert await other.get_object("deals") is None


async def test_deleting_a_workspace_deletes_its_crm(store: Store, crm: LocalCRM) -> None:
    acme = await crm.create_company("Acme")
    await crm.create_person("Ann", "ann@acme.com", acme.id, main_contact=True)
    assert await delete_workspace_rows(store, crm.workspace_id)
    async with store.connect() as conn:
        for table in (crm_objects, crm_attributes, crm_records, crm_unique_values, crm_references):
            count = select(func.count()).select_from(table).where(table.c.workspace_id == crm.workspace_id)
            assert await conn.scalar(count) == 0

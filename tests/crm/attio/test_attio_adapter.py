"""Every `AttioCRM` method against the stateful fake (all traffic checked against the spec)."""

from __future__ import annotations

from typing import Any

import pytest

from app.crm.attio.transport import AttioError
from app.crm.protocol import AttributeSpec
from app.errors import AppError, ErrorCode
from tests.crm.attio.fake_attio import FakeAttio, make_attio_crm

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def fake() -> FakeAttio:
    return FakeAttio()


def invoices(fake: FakeAttio) -> None:
    fake.add_object("invoices", "Invoice", "Invoices")
    fake.add_attribute("invoices", "stripe_id", "text", unique=True)
    fake.add_attribute("invoices", "status", "select", options=("open", "paid"))
    fake.add_attribute("invoices", "amount", "number")
    fake.add_attribute("invoices", "due", "date")
    fake.add_attribute("invoices", "paid_at", "timestamp")
    fake.add_attribute("invoices", "live", "checkbox")
    fake.add_attribute("invoices", "email", "text")
    fake.add_attribute("invoices", "person", "record-reference", target_object="people")
    fake.add_attribute("invoices", "tags", "select", multiselect=True, options=("a", "b"))


# -- people --------------------------------------------------------------------------------------


async def test_find_person_by_email_ignores_case(fake: FakeAttio) -> None:
    ada = fake.add_person("Ada Lovelace", ["Ada.Lovelace@Example.com", "ada@work.io"])
    crm = make_attio_crm(fake)
    for email in ("ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM", " Ada@Work.io "):
        found = await crm.find_person_by_email(email)
        assert found is not None and found.id == ada
    person = await crm.find_person_by_email("ada@work.io")
    assert person is not None
    assert person.name == "Ada Lovelace"
    assert person.emails == ("ada.lovelace@example.com", "ada@work.io")
    assert person.primary_email == "ada.lovelace@example.com"
    query = fake.requests[-1]
    assert query.url.path == "/v2/objects/people/records/query"
    assert b'"$eq":"ada@work.io"' in query.content.replace(b" ", b"")


async def test_find_person_by_email_none(fake: FakeAttio) -> None:
    fake.add_person("Ada Lovelace", ["ada@example.com"])
    crm = make_attio_crm(fake)
    assert await crm.find_person_by_email("grace@example.com") is None
    assert await crm.find_person_by_email("   ") is None


async def test_get_person(fake: FakeAttio) -> None:
    acme = fake.add_company("Acme", "acme.com")
    ada = fake.add_person("Ada Lovelace", ["ada@example.com"], acme)
    crm = make_attio_crm(fake)
    person = await crm.get_person(ada)
    assert person is not None
    assert (person.id, person.name, person.emails, person.company_id) == (
        ada,
        "Ada Lovelace",
        ("ada@example.com",),
        acme,
    )
    assert await crm.get_person(MISSING) is None
    fake.clear_log()
    assert await crm.get_person("not-a-uuid") is None
    assert fake.requests == []


async def test_create_person_lower_cases_email_and_joins_company(fake: FakeAttio) -> None:
    acme = fake.add_company("Acme")
    crm = make_attio_crm(fake)
    grace = await crm.create_person("Grace Brewster Hopper", "Grace@Navy.MIL", acme)
    assert grace.emails == ("grace@navy.mil",)
    assert grace.name == "Grace Brewster Hopper"
    assert grace.company_id == acme
    name = fake.values("people", grace.id)["name"][0]
    assert (name["first_name"], name["last_name"]) == ("Grace", "Brewster Hopper")
    company = await crm.get_company(acme)
    assert company is not None and [p.id for p in company.people] == [grace.id]
    assert (await crm.find_person_by_email("grace@navy.mil")) == grace


async def test_create_person_twice_is_a_conflict(fake: FakeAttio) -> None:
    crm = make_attio_crm(fake)
    await crm.create_person("Ada", "ada@example.com")
    with pytest.raises(AppError) as info:
        await crm.create_person("Ada again", "ADA@example.com")
    assert info.value.code is ErrorCode.CONFLICT
    with pytest.raises(AppError) as bad:
        await crm.create_person("Nobody", " ")
    assert bad.value.code is ErrorCode.CRM_INVALID_REQUEST


# -- companies -----------------------------------------------------------------------------------


async def test_get_company_with_team_and_main_contact(fake: FakeAttio) -> None:
    acme = fake.add_company("Acme", "acme.com")
    ada = fake.add_person("Ada Lovelace", ["ada@acme.com"], acme)
    grace = fake.add_person("Grace Hopper", ["grace@acme.com"], acme)
    fake.add_person("Other", ["other@else.com"])
    fake.set_main_contact(acme, grace)
    crm = make_attio_crm(fake)
    company = await crm.get_company(acme)
    assert company is not None
    assert (company.id, company.name, company.domain) == (acme, "Acme", "acme.com")
    assert [p.id for p in company.people] == [ada, grace]
    assert company.main_contact_id == grace


async def test_team_written_on_the_company_side(fake: FakeAttio) -> None:
    acme = fake.add_company("Acme")
    ada = fake.add_person("Ada", ["ada@x.io"])
    fake.set_values("companies", acme, {"team": [{"target_object": "people", "target_record_id": ada}]})
    crm = make_attio_crm(fake)
    company = await crm.get_company(acme)
    assert company is not None and [p.id for p in company.people] == [ada]
    assert (await crm.get_person(ada)).company_id == acme  # type: ignore[union-attr]


async def test_main_contact_outside_the_team_is_listed_too(fake: FakeAttio) -> None:
    acme = fake.add_company("Acme")
    outsider = fake.add_person("Out Sider", ["out@x.io"])
    fake.set_values("companies", acme, {"main_contact": [{"target_object": "people", "target_record_id": outsider}]})
    company = await make_attio_crm(fake).get_company(acme)
    assert company is not None
    assert company.main_contact_id == outsider and [p.id for p in company.people] == [outsider]


async def test_company_without_main_contact_attribute() -> None:
    fake = FakeAttio(main_contact_attribute=None)
    acme = fake.add_company("Acme")
    ada = fake.add_person("Ada", ["ada@x.io"], acme)
    company = await make_attio_crm(fake, main_contact_attribute=None).get_company(acme)
    assert company is not None
    assert company.main_contact_id is None and [p.id for p in company.people] == [ada]
    # The attribute is configured but absent in this workspace: still None.
    company = await make_attio_crm(fake, main_contact_attribute="main_contact").get_company(acme)
    assert company is not None and company.main_contact_id is None


async def test_company_missing(fake: FakeAttio) -> None:
    crm = make_attio_crm(fake)
    assert await crm.get_company(MISSING) is None
    assert await crm.get_company("nope") is None


# -- objects and attributes ----------------------------------------------------------------------


async def test_get_and_ensure_object(fake: FakeAttio) -> None:
    crm = make_attio_crm(fake)
    assert await crm.get_object("stripe_invoices") is None
    info, created = await crm.ensure_object("stripe_invoices", "Stripe invoice", "Stripe invoices")
    assert created and (info.slug, info.singular, info.plural) == (
        "stripe_invoices",
        "Stripe invoice",
        "Stripe invoices",
    )
    again, created = await crm.ensure_object("stripe_invoices", "Other", "Others")
    assert not created and again == info
    people = await crm.get_object("people")
    assert people is not None and people.plural == "People"


async def test_list_attributes_maps_types(fake: FakeAttio) -> None:
    invoices(fake)
    crm = make_attio_crm(fake)
    specs = {a.slug: a for a in await crm.list_attributes("invoices")}
    assert specs["stripe_id"].type == "text" and specs["stripe_id"].unique
    assert specs["status"].type == "select" and specs["status"].options == ("open", "paid")
    assert specs["person"].type == "record-reference" and specs["person"].target_object == "people"
    assert specs["created_at"].type == "timestamp"
    people = {a.slug: a for a in await crm.list_attributes("people")}
    assert people["email_addresses"].type == "email"
    assert str(people["name"].type) == "personal-name"
    companies = {a.slug: a for a in await crm.list_attributes("companies")}
    assert str(companies["domains"].type) == "domain"
    assert companies["team"].target_object == "people"


async def test_create_attribute(fake: FakeAttio) -> None:
    fake.add_object("invoices", "Invoice", "Invoices")
    crm = make_attio_crm(fake)
    made = await crm.create_attribute(
        "invoices", AttributeSpec(slug="status", title="Status", type="select", options=("open", "paid"))
    )
    assert (made.slug, made.type, made.options) == ("status", "select", ("open", "paid"))
    url = await crm.create_attribute("invoices", AttributeSpec(slug="pdf", title="PDF", type="url"))
    assert url.type == "text"  # Attio has no URL type
    email = await crm.create_attribute("invoices", AttributeSpec(slug="email", title="Email", type="email"))
    assert email.type == "text"  # Attio does not let API users create email attributes
    ref = await crm.create_attribute(
        "invoices", AttributeSpec(slug="person", title="Person", type="record-reference", target_object="people")
    )
    assert ref.target_object == "people"
    listed = {a.slug: a for a in await crm.list_attributes("invoices")}
    assert listed["person"].target_object == "people"
    with pytest.raises(AppError) as info:
        await crm.create_attribute("invoices", AttributeSpec(slug="status", title="Status", type="text"))
    assert info.value.code is ErrorCode.CONFLICT
    assert isinstance(info.value, AttioError) and info.value.attio_code == "slug_conflict"


async def test_ensure_select_options_adds_only_missing(fake: FakeAttio) -> None:
    invoices(fake)
    crm = make_attio_crm(fake)
    fake.clear_log()
    assert await crm.ensure_select_options("invoices", "status", ("draft", "open", "paid", "void")) == ["draft", "void"]
    assert len(fake.writes) == 2
    fake.clear_log()
    assert await crm.ensure_select_options("invoices", "status", ("draft", "open")) == []
    assert fake.writes == []


# -- records -------------------------------------------------------------------------------------


async def test_upsert_creates_then_updates(fake: FakeAttio) -> None:
    invoices(fake)
    ada = fake.add_person("Ada", ["ada@x.io"])
    crm = make_attio_crm(fake)
    values = {
        "stripe_id": "in_1",
        "status": "open",
        "amount": 12.34,
        "due": "2024-12-31",
        "paid_at": None,
        "live": False,
        "email": "ada@x.io",
        "person": ada,
    }
    first = await crm.upsert_record("invoices", "stripe_id", values)
    assert first.created
    assert first.record.values == {**values, "tags": []}
    second = await crm.upsert_record(
        "invoices", "stripe_id", {"stripe_id": "in_1", "status": "paid", "paid_at": "2024-12-31T10:00:00Z"}
    )
    assert not second.created
    assert second.record.id == first.record.id
    assert second.record.values["status"] == "paid"
    assert second.record.values["paid_at"] == "2024-12-31T10:00:00Z"
    assert second.record.values["amount"] == 12.34  # untouched
    other = await crm.upsert_record("invoices", "stripe_id", {"stripe_id": "in_2", "amount": 500})
    assert other.created and other.record.id != first.record.id
    put = [r for r in fake.requests if r.method == "PUT"]
    assert len(put) == 3 and all(r.url.params["matching_attribute"] == "stripe_id" for r in put)


async def test_upsert_clears_with_none_and_writes_multiselect(fake: FakeAttio) -> None:
    invoices(fake)
    crm = make_attio_crm(fake)
    await crm.upsert_record("invoices", "stripe_id", {"stripe_id": "in_1", "amount": 1, "tags": ["a", "b"]})
    result = await crm.upsert_record("invoices", "stripe_id", {"stripe_id": "in_1", "amount": None})
    assert result.record.values["amount"] is None
    assert result.record.values["tags"] == ["a", "b"]


async def test_upsert_refuses_bad_input(fake: FakeAttio) -> None:
    invoices(fake)
    crm = make_attio_crm(fake)
    cases: list[dict[str, Any]] = [
        {"amount": 1},  # no match value
        {"stripe_id": "in_1", "nope": 1},  # unknown attribute
        {"stripe_id": "in_1", "amount": "lots"},  # not a number
        {"stripe_id": "in_1", "due": "tomorrow"},  # not a date
    ]
    for values in cases:
        with pytest.raises(AppError) as info:
            await crm.upsert_record("invoices", "stripe_id", values)
        assert info.value.code is ErrorCode.CRM_INVALID_REQUEST
    # An option that does not exist: Attio itself refuses it.
    with pytest.raises(AppError) as info:
        await crm.upsert_record("invoices", "stripe_id", {"stripe_id": "in_1", "status": "lost"})
    assert info.value.code is ErrorCode.CRM_INVALID_REQUEST
    assert "value_not_found" in info.value.message


async def test_attribute_created_elsewhere_is_picked_up(fake: FakeAttio) -> None:
    invoices(fake)
    crm = make_attio_crm(fake)
    await crm.upsert_record("invoices", "stripe_id", {"stripe_id": "in_1"})
    fake.add_attribute("invoices", "note", "text")
    result = await crm.upsert_record("invoices", "stripe_id", {"stripe_id": "in_1", "note": "hi"})
    assert result.record.values["note"] == "hi"


async def test_find_and_get_record(fake: FakeAttio) -> None:
    invoices(fake)
    ada = fake.add_person("Ada", ["ada@x.io"])
    crm = make_attio_crm(fake)
    made = await crm.upsert_record("invoices", "stripe_id", {"stripe_id": "in_1", "person": ada, "amount": 3})
    found = await crm.find_record("invoices", "stripe_id", "in_1")
    assert found == made.record
    assert await crm.find_record("invoices", "person", ada) == made.record
    assert await crm.find_record("invoices", "amount", 3) == made.record
    assert await crm.find_record("invoices", "stripe_id", "in_404") is None
    assert await crm.get_record("invoices", made.record.id) == made.record
    assert await crm.get_record("invoices", MISSING) is None
    assert await crm.get_record("invoices", "x") is None
    with pytest.raises(AppError) as info:
        await crm.find_record("invoices", "nope", 1)
    assert info.value.code is ErrorCode.CRM_INVALID_REQUEST


async def test_find_record_on_email_attribute(fake: FakeAttio) -> None:
    ada = fake.add_person("Ada", ["ada@x.io"])
    found = await make_attio_crm(fake).find_record("people", "email_addresses", "ADA@x.io")
    assert found is not None and found.id == ada
    assert found.values["email_addresses"] == ["ada@x.io"]


async def test_list_records_pages_oldest_first_with_total(fake: FakeAttio) -> None:
    invoices(fake)
    crm = make_attio_crm(fake)
    for i in range(7):
        await crm.upsert_record("invoices", "stripe_id", {"stripe_id": f"in_{i}"})
    page, total = await crm.list_records("invoices", limit=3)
    assert total == 7 and [r.values["stripe_id"] for r in page] == ["in_0", "in_1", "in_2"]
    page, total = await crm.list_records("invoices", limit=3, offset=6)
    assert total == 7 and [r.values["stripe_id"] for r in page] == ["in_6"]
    page, total = await crm.list_records("invoices", limit=3, offset=20)
    assert (page, total) == ([], 7)
    page, total = await crm.list_records("invoices", limit=7)
    assert total == 7 and len(page) == 7
    assert await crm.list_records("people") == ([], 0)
    with pytest.raises(AppError):
        await crm.list_records("invoices", limit=0)


async def test_unknown_object(fake: FakeAttio) -> None:
    crm = make_attio_crm(fake)
    with pytest.raises(AppError) as info:
        await crm.list_attributes("nope")
    assert info.value.code is ErrorCode.NOT_FOUND

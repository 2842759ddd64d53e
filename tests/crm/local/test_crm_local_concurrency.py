"""The database, not luck, keeps unique attributes unique: concurrent writers over separate
connections (asyncio.gather, one LocalCRM each) on SQLite and Postgres."""

from __future__ import annotations

import asyncio

from app.crm.local.adapter import LocalCRM
from app.crm.protocol import AttributeSpec, Person
from app.errors import AppError, ErrorCode
from app.store import Store
from app.store.workspaces import CreatedWorkspace

N = 20


async def test_concurrent_upserts_of_one_key_make_one_record(store: Store, workspace: CreatedWorkspace) -> None:
    setup = LocalCRM(store, workspace.workspace_id)
    await setup.ensure_object("stripe_invoices", "Invoice", "Invoices")
    await setup.create_attribute("stripe_invoices", AttributeSpec("stripe_invoice_id", "Invoice id", "text", unique=True))
    await setup.create_attribute("stripe_invoices", AttributeSpec("amount_due", "Amount due", "currency"))

    async def upsert(i: int) -> tuple[str, bool]:
        crm = LocalCRM(store, workspace.workspace_id)  # its own connections
        result = await crm.upsert_record(
            "stripe_invoices", "stripe_invoice_id", {"stripe_invoice_id": "in_123", "amount_due": i}
        )
        return result.record.id, result.created

    results = await asyncio.gather(*(upsert(i) for i in range(N)))

    assert len({record_id for record_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    records, total = await setup.list_records("stripe_invoices")
    assert total == 1 and records[0].values["amount_due"] in range(N)


async def test_concurrent_creates_of_one_email_make_one_person(store: Store, workspace: CreatedWorkspace) -> None:
    async def create(i: int) -> Person | AppError:
        try:
            return await LocalCRM(store, workspace.workspace_id).create_person(f"Ann {i}", f"{'ANN' if i % 2 else 'ann'}@x.io")
        except AppError as exc:
            return exc

    outcomes = await asyncio.gather(*(create(i) for i in range(N)))

    people = [o for o in outcomes if isinstance(o, Person)]
    errors = [o for o in outcomes if isinstance(o, AppError)]
    assert len(people) == 1 and len(errors) == N - 1
    assert {e.code for e in errors} == {ErrorCode.CONFLICT}
    assert (await LocalCRM(store, workspace.workspace_id).list_people())[1] == 1


async def test_concurrent_first_use_creates_the_standard_objects_once(store: Store, workspace: CreatedWorkspace) -> None:
    crms = [LocalCRM(store, workspace.workspace_id) for _ in range(10)]
    infos = await asyncio.gather(*(c.get_object("people") for c in crms))
    assert all(info is not None and info.slug == "people" for info in infos)
    assert len(await crms[0].list_attributes("people")) == 3

"""A person's (and their company's) record page lists the Stripe invoices mirrored for them."""

from __future__ import annotations

import time

from app.store.workspaces import create_workspace
from app.sync.upsert import Snapshot, upsert_invoices
from tests.conftest import asgi_client, bearer
from tests.sync.conftest import Connected, make_invoice


async def test_record_pages_list_linked_invoices(connected: Connected) -> None:
    ctx, ws = connected.ctx, connected.workspace_id
    crm = ctx.crm(ws)
    company = await crm.create_company("Paper Co", "paper.example")  # type: ignore[attr-defined]
    person = await crm.create_person("Pam Beesly", "pam@paper.example", company.id)
    draft = await make_invoice(connected.gateway, "Pam@Paper.example", amount=4200)
    invoice = await connected.gateway.finalize_invoice(draft["id"], f"fin-{draft['id']}")
    [outcome] = await upsert_invoices(ctx, ws, [Snapshot(invoice, int(time.time()))])
    assert outcome.person_id == person.id

    other = await create_workspace(ctx.store, "Other")
    async with asgi_client(ctx) as client:
        token = await _operator_token(ctx, ws)
        for path in (f"/crm/people/{person.id}", f"/crm/companies/{company.id}"):
            page = await client.get(path, headers=bearer(token))
            assert page.status_code == 200, page.text
            assert invoice["number"] in page.text and "$42.00" in page.text, path
        empty = await client.get(f"/crm/people/{person.id}", headers=bearer(other.operator_token))
        assert empty.status_code == 404 and invoice["number"] not in empty.text


async def _operator_token(ctx: object, workspace_id: str) -> str:
    """A fresh operator token for an existing workspace (tokens are only shown at creation)."""
    from sqlalchemy import insert

    from app.clock import utcnow
    from app.secrets_box import hash_token, new_id, new_token
    from app.store.tables import api_tokens

    token = new_token("inv_operator")
    async with ctx.store.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(insert(api_tokens).values(id=new_id("tok"), workspace_id=workspace_id, role="operator",
                                                     token_hash=hash_token(token), created_at=utcnow()))
    return token

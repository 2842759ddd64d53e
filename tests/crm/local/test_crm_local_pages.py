"""The CRM pages (`/crm/...`): sign-in hint, lists, record pages with their actions, isolation."""

from __future__ import annotations

import json
from base64 import b64encode
from collections.abc import Mapping
from typing import TYPE_CHECKING

from itsdangerous import TimestampSigner

if TYPE_CHECKING:
    from tests.crm.local.conftest import AppEnv


async def seed(env: AppEnv) -> tuple[str, str, str]:
    async def post(path: str, body: Mapping[str, object]) -> str:
        response = await env.client.post(path, json=body, headers=env.op)
        assert response.status_code == 201, response.text
        return str(response.json().get("id", ""))

    acme = await post("/api/crm/companies", {"name": "Acme", "domain": "acme.com"})
    ann = await post("/api/crm/people", {"name": "Ann <b>Lee</b>", "email": "ann@acme.com", "company_id": acme,
                                         "main_contact": True})
    await post("/api/crm/objects", {"slug": "deals", "singular": "Deal", "plural": "Deals"})
    for attr in ({"slug": "name", "title": "Name", "type": "text"},
                 {"slug": "stage", "title": "Stage", "type": "select", "options": ["lead", "won"]},
                 {"slug": "contact", "title": "Contact", "type": "record-reference", "target_object": "people"}):
        await post("/api/crm/objects/deals/attributes", attr)
    deal = await post("/api/crm/objects/deals/records", {"values": {"name": "Big deal", "stage": "won", "contact": ann}})
    return acme, ann, deal


async def test_unauthenticated_pages_say_how_to_sign_in(env: AppEnv) -> None:
    for path in ("/crm", "/crm/people", "/crm/companies/rec_x", "/crm/objects/deals"):
        response = await env.client.get(path)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("text/html")
        assert "/login?token=" in response.text


async def test_lists_and_record_pages(env: AppEnv) -> None:
    acme, ann, deal = await seed(env)

    overview = await env.client.get("/crm", headers=env.op)
    assert overview.status_code == 200
    for text in ("People", "Companies", "Deals", 'href="/crm/objects/deals"'):
        assert text in overview.text

    people = await env.client.get("/crm/people", headers=env.op)
    assert people.status_code == 200
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in people.text and "<b>Lee</b>" not in people.text  # escaped
    assert f'href="/crm/people/{ann}"' in people.text and f'href="/crm/companies/{acme}"' in people.text
    assert '<label for="p-email">' in people.text

    company = await env.client.get(f"/crm/companies/{acme}", headers=env.op)
    assert company.status_code == 200
    assert f'href="/actions/create-invoice?object=companies&amp;record_id={acme}"' in company.text
    assert "Sync Stripe Invoices" in company.text and "data-sync-invoices" in company.text
    assert "Main contact" in company.text and "ann@acme.com" in company.text

    person = await env.client.get(f"/crm/people/{ann}", headers=env.op)
    assert f"/actions/create-invoice?object=people&amp;record_id={ann}" in person.text
    assert f'href="/crm/companies/{acme}">Acme</a>' in person.text

    deals = await env.client.get("/crm/objects/deals", headers=env.op)
    assert deals.status_code == 200 and "Big deal" in deals.text and "won" in deals.text
    record = await env.client.get(f"/crm/objects/deals/{deal}", headers=env.op)
    assert record.status_code == 200 and "Create Invoice" not in record.text
    assert f'href="/crm/people/{ann}"' in record.text

    moved = await env.client.get(f"/crm/objects/people/{ann}", headers=env.op)
    assert moved.status_code == 307 and moved.headers["location"] == f"/crm/people/{ann}"
    assert (await env.client.get("/crm/objects/nothing", headers=env.op)).status_code == 404
    assert (await env.client.get("/crm/people/rec_nope", headers=env.op)).status_code == 404


async def test_other_workspaces_records_are_not_found(env: AppEnv) -> None:
    acme, ann, deal = await seed(env)
    for path in (f"/crm/companies/{acme}", f"/crm/people/{ann}", f"/crm/objects/deals/{deal}"):
        response = await env.client.get(path, headers=env.other)
        assert response.status_code == 404 and "Acme" not in response.text


async def test_page_session_renders_the_csrf_token(env: AppEnv) -> None:
    session = {"principal": {"workspace_id": env.first.workspace_id, "role": "operator"}, "csrf": "csrf-123"}
    signer = TimestampSigner(env.ctx.box.derive("page-sessions"))
    cookie = signer.sign(b64encode(json.dumps(session).encode())).decode()
    env.client.cookies.set("invoicing_session", cookie)
    response = await env.client.get("/crm/people")
    assert response.status_code == 200
    assert '<meta name="csrf-token" content="csrf-123">' in response.text


async def test_assets(env: AppEnv) -> None:
    css = await env.client.get("/crm/assets/crm.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = await env.client.get("/crm/assets/crm.js")
    assert js.status_code == 200 and "X-CSRF-Token" in js.text
    assert (await env.client.get("/crm/assets/secrets.txt")).status_code == 404

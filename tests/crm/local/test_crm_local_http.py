"""The embedded CRM's JSON API through the real app (`/api/crm/...`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.crm.local.conftest import AppEnv


async def post(env: AppEnv, path: str, body: dict[str, Any], status: int = 201, headers: dict[str, str] | None = None) -> Any:
    response = await env.client.post(path, json=body, headers=headers or env.op)
    assert response.status_code == status, response.text
    return response.json()


async def get(env: AppEnv, path: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    response = await env.client.get(path, headers=env.op if headers is None else headers)
    assert response.status_code == status, response.text
    return response.json()


async def test_companies_and_people(env: AppEnv) -> None:
    acme = await post(env, "/api/crm/companies", {"name": "Acme", "domain": "acme.com"})
    assert acme["id"].startswith("rec_") and acme["name"] == "Acme" and acme["domain"] == "acme.com"
    ann = await post(env, "/api/crm/people", {"name": "Ann", "email": "Ann@Acme.com", "company_id": acme["id"]})
    bob = await post(env, "/api/crm/people",
                     {"name": "Bob", "email": "bob@acme.com", "company_id": acme["id"], "main_contact": True})
    assert ann["email"] == "ann@acme.com" and ann["emails"] == ["ann@acme.com"] and ann["company_id"] == acme["id"]

    company = await get(env, f"/api/crm/companies/{acme['id']}")
    assert company["main_contact_id"] == bob["id"]
    assert [p["id"] for p in company["people"]] == [ann["id"], bob["id"]]
    assert company["people"][0]["email"] == "ann@acme.com"
    person = await get(env, f"/api/crm/people/{ann['id']}")
    assert person["name"] == "Ann" and person["values"]["company"] == acme["id"]

    people = await get(env, "/api/crm/people?limit=1&offset=1")
    assert people["total"] == 2 and [p["id"] for p in people["data"]] == [bob["id"]]
    companies = await get(env, "/api/crm/companies")
    assert companies["total"] == 1 and companies["data"][0]["main_contact_id"] == bob["id"]


async def test_people_errors(env: AppEnv) -> None:
    await post(env, "/api/crm/people", {"name": "Ann", "email": "ann@x.io"})
    dup = await post(env, "/api/crm/people", {"name": "Ann 2", "email": "ANN@x.io"}, status=409)
    assert dup["error"]["code"] == "conflict" and "ann@x.io" in dup["error"]["message"]
    unknown = await post(env, "/api/crm/people", {"name": "Cy", "email": "cy@x.io", "company_id": "rec_nope"}, status=422)
    assert "company" in unknown["error"]["fields"]
    bad = await post(env, "/api/crm/people", {"name": "Di", "email": "not-an-email"}, status=422)
    assert bad["error"]["code"] == "crm_invalid_request"
    missing = await post(env, "/api/crm/people", {"email": "ed@x.io"}, status=422)
    assert "name" in missing["error"]["fields"]
    await get(env, "/api/crm/people/rec_nope", status=404)
    await get(env, "/api/crm/companies/rec_nope", status=404)


async def test_custom_object_records_contract(env: AppEnv) -> None:
    created = await post(env, "/api/crm/objects", {"slug": "deals", "singular": "Deal", "plural": "Deals"})
    assert created["slug"] == "deals" and created["attributes"] == []
    await post(env, "/api/crm/objects", {"slug": "deals", "singular": "Deal", "plural": "Deals"}, status=409)
    stage = await post(env, "/api/crm/objects/deals/attributes",
                       {"slug": "stage", "title": "Stage", "type": "select", "options": ["lead", "won"]})
    assert stage == {"slug": "stage", "title": "Stage", "type": "select", "unique": False,
                     "options": ["lead", "won"], "target_object": None}
    await post(env, "/api/crm/objects/deals/attributes", {"slug": "amount", "title": "Amount", "type": "currency"})
    await post(env, "/api/crm/objects/deals/attributes", {"slug": "stage", "title": "S", "type": "text"}, status=409)
    await post(env, "/api/crm/objects/deals/attributes", {"slug": "x", "title": "X", "type": "colour"}, status=422)
    await post(env, "/api/crm/objects/nothing/attributes", {"slug": "x", "title": "X", "type": "text"}, status=404)

    first = await post(env, "/api/crm/objects/deals/records", {"values": {"stage": "lead", "amount": "12.34"}})
    second = await post(env, "/api/crm/objects/deals/records", {"values": {"stage": "won"}})
    bad = await post(env, "/api/crm/objects/deals/records", {"values": {"stage": "lost"}}, status=422)
    assert "stage" in bad["error"]["fields"]

    page = await get(env, "/api/crm/objects/deals/records?limit=1")
    assert page["total"] == 2
    assert page["data"] == [{"id": first["id"], "object": "deals", "values": {"stage": "lead", "amount": 12.34}}]
    patched = await env.client.patch(f"/api/crm/objects/deals/records/{second['id']}",
                                      json={"values": {"stage": "lead", "amount": 5}}, headers=env.op)
    assert patched.status_code == 200 and patched.json()["values"] == {"stage": "lead", "amount": 5}
    one = await get(env, f"/api/crm/objects/deals/records/{second['id']}")
    assert one["values"]["amount"] == 5
    objects = await get(env, "/api/crm/objects")
    assert [o["slug"] for o in objects["data"]] == ["people", "companies", "deals"]
    deals = await get(env, "/api/crm/objects/deals")
    assert [a["slug"] for a in deals["attributes"]] == ["stage", "amount"]
    await get(env, "/api/crm/objects/nothing/records", status=404)


async def test_people_are_records_of_the_people_object(env: AppEnv) -> None:
    ann = await post(env, "/api/crm/people", {"name": "Ann", "email": "ann@x.io"})
    page = await get(env, "/api/crm/objects/people/records")
    assert page == {"data": [{"id": ann["id"], "object": "people",
                              "values": {"name": "Ann", "email_addresses": ["ann@x.io"]}}],
                    "total": 1, "limit": 50, "offset": 0}


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=ten", "offset=-1", "offset=x"])
async def test_paging_is_validated(env: AppEnv, query: str) -> None:
    body = await get(env, f"/api/crm/people?{query}", status=422)
    assert body["error"]["code"] == "validation_error"


async def test_limit_bounds_are_accepted(env: AppEnv) -> None:
    assert (await get(env, "/api/crm/companies?limit=500&offset=0"))["limit"] == 500
    assert (await get(env, "/api/crm/objects/people/records?limit=1"))["limit"] == 1


async def test_another_workspace_sees_nothing(env: AppEnv) -> None:
    acme = await post(env, "/api/crm/companies", {"name": "Acme"})
    ann = await post(env, "/api/crm/people", {"name": "Ann", "email": "ann@x.io", "company_id": acme["id"]})
    await post(env, "/api/crm/objects", {"slug": "deals", "singular": "Deal", "plural": "Deals"})
    await post(env, "/api/crm/objects/deals/attributes", {"slug": "name", "title": "Name", "type": "text"})
    deal = await post(env, "/api/crm/objects/deals/records", {"values": {"name": "Big"}})

    for path in (f"/api/crm/people/{ann['id']}", f"/api/crm/companies/{acme['id']}",
                 f"/api/crm/objects/people/records/{ann['id']}", "/api/crm/objects/deals/records",
                 f"/api/crm/objects/deals/records/{deal['id']}"):
        await get(env, path, status=404, headers=env.other)
    assert (await get(env, "/api/crm/people", headers=env.other))["total"] == 0
    patched = await env.client.patch(f"/api/crm/objects/people/records/{ann['id']}",
                                     json={"values": {"name": "Hijacked"}}, headers=env.other)
    assert patched.status_code == 404
    await post(env, "/api/crm/people", {"name": "Eve", "email": "eve@x.io", "company_id": acme["id"]},
               status=422, headers=env.other)
    await post(env, "/api/crm/people", {"name": "Ann", "email": "ann@x.io"}, headers=env.other)  # own namespace
    assert (await get(env, f"/api/crm/people/{ann['id']}"))["name"] == "Ann"


async def test_auth(env: AppEnv) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = await env.client.get("/api/crm/people", headers=headers)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
    response = await env.client.post("/api/crm/companies", json={"name": "X"})
    assert response.status_code == 401
    admin = env.auth(env.first.admin_token)  # admin may do what an operator may
    assert (await env.client.get("/api/crm/people", headers=admin)).status_code == 200


async def test_only_with_the_local_backend(attio_env: AppEnv) -> None:
    body = await get(attio_env, "/api/crm/people", status=404)
    assert "CRM_BACKEND=local" in body["error"]["message"]
    page = await attio_env.client.get("/crm", headers=attio_env.op)
    assert page.status_code == 404 and "CRM_BACKEND=local" in page.text

"""The fake holds the adapter to the spec: it refuses what Attio's description does not allow."""

from __future__ import annotations

from typing import Any

import pytest

from tests.crm.attio.fake_attio import FAKE_TOKEN, FakeAttio
from tests.crm.attio.openapi_check import SpecViolation

AUTH = {"Authorization": f"Bearer {FAKE_TOKEN}"}


async def test_bad_request_bodies_fail_the_test() -> None:
    fake = FakeAttio()
    async with fake.http_client() as http:
        with pytest.raises(SpecViolation, match="singular_noun"):
            await http.post(
                "https://api.attio.com/v2/objects", json={"data": {"api_slug": "x", "plural_noun": "Xs"}}, headers=AUTH
            )
        with pytest.raises(SpecViolation, match="matching_attribute"):
            await http.put(
                "https://api.attio.com/v2/objects/people/records", json={"data": {"values": {}}}, headers=AUTH
            )
        with pytest.raises(SpecViolation, match="not an operation"):
            await http.delete("https://api.attio.com/v2/objects/people", headers=AUTH)
        with pytest.raises(SpecViolation, match="bearer"):
            await http.get("https://api.attio.com/v2/objects/people")
        with pytest.raises(SpecViolation, match="path parameter target"):
            await http.get("https://api.attio.com/v2/tables/people/attributes", headers=AUTH)
        with pytest.raises(SpecViolation, match="undocumented query"):
            await http.get("https://api.attio.com/v2/objects/people?expand=all", headers=AUTH)


async def test_wrong_token_is_401() -> None:
    fake = FakeAttio()
    async with fake.http_client() as http:
        response = await http.get("https://api.attio.com/v2/objects/people", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


async def test_attio_refuses_email_attributes_on_objects() -> None:
    fake = FakeAttio()
    body: dict[str, Any] = {
        "data": {
            "title": "Email",
            "description": None,
            "api_slug": "email",
            "type": "email-address",
            "is_required": False,
            "is_unique": False,
            "is_multiselect": False,
            "default_value": None,
            "config": {},
        }
    }
    async with fake.http_client() as http:
        response = await http.post("https://api.attio.com/v2/objects/people/attributes", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_type"


async def test_writes_are_logged_reads_are_not_writes() -> None:
    fake = FakeAttio()
    async with fake.http_client() as http:
        await http.post("https://api.attio.com/v2/objects/people/records/query", json={}, headers=AUTH)
        await http.get("https://api.attio.com/v2/objects/people", headers=AUTH)
    assert len(fake.requests) == 2 and fake.writes == []

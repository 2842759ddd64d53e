# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Customers through stripe-python: CRUD, exact `email` filter, pagination past 100."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stripe

FIXTURES = Path(__file__).parents[2] / "app" / "sandbox" / "fixtures"


async def test_create_retrieve_update_delete(client: stripe.StripeClient) -> None:
    created = await client.v1.customers.create_async(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"crm_id": "p1"}}
    )
    assert created.id.startswith("cus_")
    assert (created.email, created.name, created.livemode) == ("ada@example.com", "Ada", False)
    fixture_keys = set(json.loads((FIXTURES / "customer.json").read_text()))
    assert fixture_keys <= set(created.to_dict())

    updated = await client.v1.customers.update_async(
        created.id, params={"name": "Ada L.", "metadata": {"crm_id": "", "tier": "gold"}}
    )
    assert updated.name == "Ada L."
    assert updated.metadata.to_dict() == {"tier": "gold"}

    fetched = await client.v1.customers.retrieve_async(created.id)
    assert fetched.name == "Ada L."

    deleted = await client.v1.customers.delete_async(created.id)
    assert deleted.deleted is True
    again = await client.v1.customers.retrieve_async(created.id)
    assert again.to_dict().get("deleted") is True
    listed = await client.v1.customers.list_async(params={"email": "ada@example.com"})
    assert listed.data == []


async def test_email_filter_is_exact_and_case_sensitive(client: stripe.StripeClient) -> None:
    for email in ("Bob@Example.com", "bob@example.com", "bob@example.com.au", "xbob@example.com"):
        await client.v1.customers.create_async(params={"email": email})
    found = await client.v1.customers.list_async(params={"email": "bob@example.com"})
    assert [c.email for c in found.data] == ["bob@example.com"]
    assert found.url == "/v1/customers"
    none = await client.v1.customers.list_async(params={"email": "BOB@example.com"})
    assert none.data == [] and none.has_more is False


async def test_pagination_over_more_than_100(client: stripe.StripeClient) -> None:
    created = [
        (await client.v1.customers.create_async(params={"email": f"c{i}@example.com"})).id
        for i in range(130)
    ]
    newest_first = created[::-1]

    page = await client.v1.customers.list_async(params={"limit": 100})
    assert len(page.data) == 100 and page.has_more is True
    rest = await client.v1.customers.list_async(
        params={"limit": 100, "starting_after": page.data[-1].id}
    )
    assert len(rest.data) == 30 and rest.has_more is False
    assert [c.id for c in page.data] + [c.id for c in rest.data] == newest_first

    first = await client.v1.customers.list_async(params={"limit": 7})
    assert [c.id async for c in first.auto_paging_iter()] == newest_first

    before = await client.v1.customers.list_async(
        params={"limit": 5, "ending_before": newest_first[50]}
    )
    assert [c.id for c in before.data] == newest_first[45:50] and before.has_more is True


async def test_limit_bounds_and_bad_cursor(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.customers.list_async(params={"limit": 101})
    assert error.value.param == "limit" and error.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.customers.list_async(params={"limit": 0})
    assert error.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.customers.list_async(params={"starting_after": "cus_nope"})
    assert error.value.code == "resource_missing"


async def test_validation_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.customers.create_async(params={"email": "not-an-email"})
    assert (error.value.code, error.value.param) == ("email_invalid", "email")
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.customers.create_async(params={"colour": "red"})
    assert error.value.code == "parameter_unknown"
    assert "Received unknown parameter: colour" in str(error.value)
    with pytest.raises(stripe.InvalidRequestError) as error:
        await client.v1.customers.retrieve_async("cus_missing")
    assert error.value.http_status == 404 and error.value.code == "resource_missing"
    assert "No such customer: 'cus_missing'" in str(error.value)

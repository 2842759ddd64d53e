"""Every refused request: a 4xx with a message that says what to fix, and nothing left in Stripe
(the emulator's state and request log prove it)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from app.invoicing.models import MAX_AMOUNT, today_utc
from app.store.workspaces import create_workspace
from tests.conftest import bearer
from tests.invoicing.conftest import ENDPOINT, Billing, custom, due


def request(billing: Billing, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "people", "record_id": billing.seed.lone_person, "line_items": [custom()],
                            "due_date": due(), "send_email": True}
    body.update(overrides)
    return body


async def test_each_bad_input_is_refused_and_leaves_nothing_in_stripe(billing: Billing) -> None:
    seed = billing.seed
    no_email = await billing.crm.create_record("people", {"name": "Nomail Person"})
    cases: list[tuple[str, dict[str, Any], int, str, str | None]] = [
        # (case, body, status, words in the message, field)
        ("no lines", request(billing, line_items=[]), 422, "at least one line", "line_items"),
        ("zero quantity", request(billing, line_items=[custom(quantity=0)]), 422, "at least 1", "line_items.0.quantity"),
        ("fractional amount", request(billing, line_items=[custom(unit_amount=10.5)]), 422, "smallest unit",
         "line_items.0.unit_amount"),
        ("negative amount", request(billing, line_items=[custom(unit_amount=-100)]), 422, "at least 1",
         "line_items.0.unit_amount"),
        ("amount over Stripe's limit", request(billing, line_items=[custom(unit_amount=MAX_AMOUNT + 1)]), 422,
         "at most", "line_items.0.unit_amount"),
        ("total over Stripe's limit", request(billing, line_items=[custom(unit_amount=MAX_AMOUNT)] * 2), 422,
         "above Stripe's limit", "line_items"),
        ("two currencies", request(billing, line_items=[custom(), custom(currency="eur")]), 422, "one currency",
         "line_items"),
        ("catalog and custom currencies differ",
         request(billing, line_items=[{"price_id": seed.one_time_eur, "quantity": 1}, custom()]), 422,
         "single currency", "line_items.1.currency"),
        ("due date in the past", request(billing, due_date=(today_utc() - timedelta(days=1)).isoformat()), 422,
         "today", "due_date"),
        ("unknown price", request(billing, line_items=[{"price_id": "price_doesnotexist", "quantity": 1}]), 422,
         "no price", "line_items.0.price_id"),
        ("recurring price", request(billing, line_items=[{"price_id": seed.recurring_usd, "quantity": 1}]), 422,
         "only one-time prices", "line_items.0.price_id"),
        ("archived price", request(billing, line_items=[{"price_id": seed.archived_usd, "quantity": 1}]), 422,
         "archived", "line_items.0.price_id"),
        ("unknown record", request(billing, record_id="rec_nobody"), 404, "No person", "record_id"),
        ("unknown company", request(billing, object="companies", record_id="rec_nothing"), 404, "No company",
         "record_id"),
        ("person without email", request(billing, record_id=no_email.id), 422, "no email address", "record_id"),
        ("company without people", request(billing, object="companies", record_id=seed.empty_company), 422,
         "no people", "person_record_id"),
        ("person not at the company",
         request(billing, object="companies", record_id=seed.company, person_record_id=seed.lone_person), 422,
         "not one of Globex's people", "person_record_id"),
        ("person_record_id on a person", request(billing, person_record_id=seed.other_person), 422,
         "only applies to companies", "person_record_id"),
        ("many unknown prices", request(billing, line_items=[{"price_id": f"price_x{i}"} for i in range(6)]), 422,
         "not in your Stripe catalog", "line_items"),
        ("unknown field", request(billing, coupon="FREE"), 422, "not a field", "coupon"),
        ("wrong object", request(billing, object="deals"), 422, "'people' or 'companies'", "object"),
    ]
    before = billing.stripe_objects()
    mark = billing.mark()
    for case, body, status, words, field in cases:
        r = await billing.create(body)
        assert r.status_code == status, (case, r.text)
        error = r.json()["error"]
        assert words in error["message"] or words in json.dumps(error["fields"]), (case, error)
        if field is not None:
            assert field in error["fields"], (case, error)
    raw_cases = [
        ("malformed JSON", b'{"object": "people", ', 400, "not valid JSON"),
        ("not an object", b'["people"]', 400, "JSON object"),
        ("over 1 MB", json.dumps(request(billing, padding="x" * 1_100_000)).encode(), 413, "larger than"),
    ]
    for case, raw, status, words in raw_cases:
        r = await billing.client.post(ENDPOINT, content=raw,
                                      headers={**billing.headers, "Content-Type": "application/json"})
        assert r.status_code == status, (case, r.text)
        assert words in r.json()["error"]["message"], case
    assert billing.stripe_objects() == before
    writes = [c for c in billing.calls_since(mark) if not c.startswith("GET ")]
    assert writes == [], writes


async def test_without_a_token_or_a_stripe_connection_nothing_happens(billing: Billing) -> None:
    before = billing.stripe_objects()
    r = await billing.client.post(ENDPOINT, json=request(billing))
    assert r.status_code == 401 and "bearer token" in r.json()["error"]["message"]
    other = await create_workspace(billing.ctx.store, "Unconnected")
    r = await billing.client.post(ENDPOINT, json=request(billing), headers=bearer(other.operator_token))
    # The record belongs to the other workspace, so it is not found there before Stripe is asked.
    assert r.status_code == 404
    crm = billing.crm.__class__(billing.ctx.store, other.workspace_id)
    person = await crm.create_person("Otto", "otto@example.test")
    r = await billing.client.post(ENDPOINT, json=request(billing, record_id=person.id),
                                  headers=bearer(other.operator_token))
    assert r.status_code == 409 and "Connect a Stripe key" in r.json()["error"]["message"]
    assert billing.stripe_objects() == before
    # The dialog's context still loads, and says what to fix.
    r = await billing.client.get("/api/actions/create-invoice/context", params={"object": "people", "record_id": person.id},
                                 headers=bearer(other.operator_token))
    assert r.status_code == 200
    assert r.json()["stripe_connected"] is False and "Settings" in r.json()["catalog_error"]

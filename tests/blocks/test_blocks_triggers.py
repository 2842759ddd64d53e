"""Pure trigger logic: the Stripe invoice outcome, the CRM condition, and callback signatures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blocks.crm_record_updated.block import RecordUpdatedConfig
from blocks.crm_record_updated.trigger import fires
from blocks.invoice_outcome import invoice_summary
from blocks.signing import activation_secret, sign, verify
from blocks.stripe_trigger import trigger_outcome

INVOICE = json.loads((Path(__file__).parents[1] / "data" / "stripe" / "invoice.json").read_text())


def test_trigger_outcome_carries_the_invoice_in_minor_and_major_units() -> None:
    invoice = {**INVOICE, "status": "open", "number": "N-1", "customer_email": "a@example.com",
               "hosted_invoice_url": "https://pay.example/i", "due_date": 1_700_000_000}
    outcome = trigger_outcome({"id": "evt_1", "type": "invoice.finalized", "created": 5, "data": {"object": invoice}}, "rec_9")
    assert outcome["event_id"] == "evt_1" and outcome["event_type"] == "invoice.finalized" and outcome["created"] == 5
    summary = outcome["invoice"]
    assert summary["id"] == INVOICE["id"] and summary["number"] == "N-1" and summary["status"] == "open"
    assert summary["amount_due"] == INVOICE["amount_due"] and summary["amount_due_major"] == INVOICE["amount_due"] / 100
    assert summary["currency"] == INVOICE["currency"].upper()
    assert summary["customer_id"] == INVOICE["customer"] and summary["customer_email"] == "a@example.com"
    assert summary["due_date"] == "2023-11-14" and summary["person_id"] == "rec_9"


def test_zero_decimal_currency_and_expanded_customer() -> None:
    summary = invoice_summary({**INVOICE, "currency": "jpy", "amount_due": 500, "total": 500,
                               "customer": {"id": "cus_X", "object": "customer"}})
    assert summary.amount_due_major == 500 and isinstance(summary.amount_due_major, int)
    assert summary.customer_id == "cus_X" and summary.currency == "JPY"


@pytest.mark.parametrize(("config", "values", "previous", "expected"), [
    ({"value": "Won"}, {"stage": "Won"}, {"stage": "Lead"}, True),
    ({"value": "won"}, {"stage": "Won"}, {}, True),  # text compares case-insensitively
    ({"value": "Won"}, {"stage": "Won", "x": 1}, {"stage": "Won"}, False),  # stays Won: no new event
    ({"value": "Won"}, {"stage": "Lost"}, {"stage": "Won"}, False),
    ({"condition": "not_equals", "value": "Won"}, {"stage": "Lost"}, {"stage": "Won"}, True),
    ({"condition": "changed"}, {"stage": "Lost"}, {"stage": "Won"}, True),
    ({"condition": "changed"}, {"stage": "Won"}, {"stage": "Won"}, False),
    ({"value": 3}, {"stage": 3.0}, {"stage": 2}, True),
    ({"value": None}, {}, {"stage": "Won"}, True),  # becomes empty
])
def test_record_updated_fires_when_the_condition_becomes_true(config: dict[str, object], values: dict[str, object],
                                                              previous: dict[str, object], expected: bool) -> None:
    parsed = RecordUpdatedConfig.model_validate({"object": "deals", "attribute": "stage", **config})
    assert fires(parsed, values, previous) is expected


def test_signatures() -> None:
    secret = activation_secret("material", "ws_1", "act_1")
    assert secret.startswith("whsec_") and secret == activation_secret("material", "ws_1", "act_1")
    assert secret != activation_secret("material", "ws_2", "act_1")
    body = b'{"a":1}'
    header = sign(secret, body, 1_000)
    assert verify(secret, body, header, now=1_100)
    assert not verify(secret, body + b" ", header, now=1_100)
    assert not verify(secret, body, header, now=1_000 + 301)  # too old: a replay
    assert not verify(secret, body, "v1=abc", now=1_000)

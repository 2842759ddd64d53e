from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from schema_mapping.mapping import SchemaMapping
from schema_mapping.spec import FIELD_KEYS
from schema_mapping.values import invoice_to_values

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "stripe" / "invoice.json"


@pytest.fixture
def invoice() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def paid(invoice: dict[str, Any], **changes: Any) -> dict[str, Any]:
    inv = copy.deepcopy(invoice)
    inv.update(
        status="paid",
        number="ABCD-0001",
        customer_email="Ada@Example.com",
        hosted_invoice_url="https://invoice.stripe.com/i/acct_1/test_x",
        invoice_pdf="https://pay.stripe.com/invoice/acct_1/test_x/pdf",
        due_date=1735689599,  # 2024-12-31T23:59:59Z
        livemode=True,
    )
    inv["status_transitions"].update(finalized_at=1735603200, paid_at=1735689599)
    inv.update(changes)
    return inv


def test_fixture_invoice(invoice: dict[str, Any]) -> None:
    values = invoice_to_values(invoice, SchemaMapping.default(), None)
    assert list(values) == list(FIELD_KEYS)
    assert values == {
        "stripe_invoice_id": "in_1Pgc6tB7WZ01zgkWu9fdqL6I",
        "number": None,
        "status": "draft",
        "amount_due": 10.0,
        "amount_paid": 0.0,
        "amount_remaining": 10.0,
        "currency": "USD",
        "due_date": "2009-02-13",  # 1234567890 = 2009-02-13T23:31:30Z
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "customer_email": None,
        "stripe_customer_id": "cus_QXg1o8vcGmoR32",
        "person": None,
        "finalized_at": None,
        "paid_at": None,
        "voided_at": None,
        "livemode": False,
    }


def test_paid_usd_invoice(invoice: dict[str, Any]) -> None:
    inv = paid(invoice, amount_due=1234, amount_paid=1234, amount_remaining=0)
    values = invoice_to_values(inv, SchemaMapping.default(), "person-1")
    assert values["amount_due"] == 12.34 and values["amount_paid"] == 12.34
    assert values["amount_remaining"] == 0
    assert values["due_date"] == "2024-12-31"
    assert values["finalized_at"] == "2024-12-31T00:00:00Z"
    assert values["paid_at"] == "2024-12-31T23:59:59Z"
    assert values["voided_at"] is None
    assert values["status"] == "paid"
    assert values["number"] == "ABCD-0001"
    assert values["customer_email"] == "Ada@Example.com"
    assert values["person"] == "person-1"
    assert values["livemode"] is True
    assert values["hosted_invoice_url"].startswith("https://invoice.stripe.com/")


def test_jpy_amounts_are_whole(invoice: dict[str, Any]) -> None:
    inv = paid(invoice, currency="jpy", amount_due=500, amount_paid=0, amount_remaining=500)
    values = invoice_to_values(inv, SchemaMapping.default(), None)
    assert values["currency"] == "JPY"
    assert values["amount_due"] == 500 and isinstance(values["amount_due"], int)
    assert values["amount_remaining"] == 500


def test_kwd_amounts_have_three_decimals(invoice: dict[str, Any]) -> None:
    inv = paid(invoice, currency="kwd", amount_due=1234, amount_paid=1000, amount_remaining=234)
    values = invoice_to_values(inv, SchemaMapping.default(), None)
    assert (values["amount_due"], values["amount_paid"], values["amount_remaining"]) == (1.234, 1.0, 0.234)
    assert values["currency"] == "KWD"


def test_expanded_customer_and_voided(invoice: dict[str, Any]) -> None:
    inv = paid(invoice, status="void", customer={"id": "cus_X", "object": "customer", "email": "x@y.z"})
    inv["status_transitions"].update(paid_at=None, voided_at=1700000000)
    values = invoice_to_values(inv, SchemaMapping.default(), None)
    assert values["stripe_customer_id"] == "cus_X"
    assert values["voided_at"] == "2023-11-14T22:13:20Z"
    assert values["paid_at"] is None


def test_missing_customer_and_due_date(invoice: dict[str, Any]) -> None:
    inv = copy.deepcopy(invoice)
    inv.update(customer=None, due_date=None, customer_email="  ")
    values = invoice_to_values(inv, SchemaMapping.default(), None)
    assert values["stripe_customer_id"] is None
    assert values["due_date"] is None
    assert values["customer_email"] is None


def test_keys_follow_the_mapping(invoice: dict[str, Any]) -> None:
    mapping = SchemaMapping(stripe_invoice_id="stripe_id", amount_due="due", person="contact")
    values = invoice_to_values(invoice, mapping, "p1")
    assert values["stripe_id"] == invoice["id"]
    assert values["due"] == 10.0
    assert values["contact"] == "p1"
    assert set(values) == set(mapping.field_slugs().values())


def test_pure(invoice: dict[str, Any]) -> None:
    before = copy.deepcopy(invoice)
    invoice_to_values(invoice, SchemaMapping.default(), None)
    assert invoice == before

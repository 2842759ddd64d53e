"""Pure: a Stripe invoice (dict, as in Stripe's API and webhooks) -> CRM values by mapped slug."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.money import major_json
from schema_mapping.mapping import SchemaMapping


def _unix_to_date(value: Any) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC).date().isoformat()


def _unix_to_iso(value: Any) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), tz=UTC).isoformat().replace("+00:00", "Z")


def _customer_id(customer: Any) -> str | None:
    if isinstance(customer, str):
        return customer
    if isinstance(customer, Mapping):
        cid = customer.get("id")
        return cid if isinstance(cid, str) else None
    return None


def _amount(invoice: Mapping[str, Any], key: str, currency: str | None) -> int | float | None:
    value = invoice.get(key)
    if value is None or currency is None:
        return None
    return major_json(int(value), currency)


def invoice_to_values(
    invoice: Mapping[str, Any], mapping: SchemaMapping, person_record_id: str | None
) -> dict[str, Any]:
    """Every mapped field, keyed by its slug. Amounts are major units (1234 USD cents -> 12.34,
    500 JPY -> 500), `currency` is upper case, `due_date` is YYYY-MM-DD in UTC, timestamps are
    ISO 8601 UTC with `Z`. A None value clears the attribute: drop the key to leave it alone."""
    raw_currency = invoice.get("currency")
    currency = raw_currency.upper() if isinstance(raw_currency, str) and raw_currency else None
    transitions = invoice.get("status_transitions") or {}
    email = invoice.get("customer_email")
    plain: dict[str, Any] = {
        "stripe_invoice_id": invoice["id"],
        "number": invoice.get("number"),
        "status": invoice.get("status"),
        "amount_due": _amount(invoice, "amount_due", currency),
        "amount_paid": _amount(invoice, "amount_paid", currency),
        "amount_remaining": _amount(invoice, "amount_remaining", currency),
        "currency": currency,
        "due_date": _unix_to_date(invoice.get("due_date")),
        "hosted_invoice_url": invoice.get("hosted_invoice_url"),
        "invoice_pdf": invoice.get("invoice_pdf"),
        "customer_email": email.strip() if isinstance(email, str) and email.strip() else None,
        "stripe_customer_id": _customer_id(invoice.get("customer")),
        "person": person_record_id,
        "finalized_at": _unix_to_iso(transitions.get("finalized_at")),
        "paid_at": _unix_to_iso(transitions.get("paid_at")),
        "voided_at": _unix_to_iso(transitions.get("voided_at")),
        "livemode": bool(invoice.get("livemode", False)),
    }
    return {mapping.slug(key): value for key, value in plain.items()}

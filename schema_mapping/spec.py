"""The default Stripe invoice object (DESIGN §6): one logical field per attribute.

Amounts are plain `number` attributes plus a `currency` text attribute, not CRM currency
attributes: Attio's currency attribute fixes one currency per attribute (its
`default_currency_code`), while one Stripe account bills in many currencies. A number in major
units (12.34 for 1234 USD cents, 500 for 500 JPY) next to the ISO code stays correct for every
invoice and still sorts and sums within a currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.crm.protocol import AttributeType

OBJECT_SLUG = "stripe_invoices"
OBJECT_SINGULAR = "Stripe invoice"
OBJECT_PLURAL = "Stripe invoices"

INVOICE_STATUSES: tuple[str, ...] = ("draft", "open", "paid", "void", "uncollectible")
PEOPLE_OBJECT = "people"


@dataclass(frozen=True)
class FieldSpec:
    """A logical invoice field; `key` is also its default attribute slug."""

    key: str
    title: str
    type: AttributeType
    unique: bool = False
    options: tuple[str, ...] = ()
    target_object: str | None = None


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("stripe_invoice_id", "Stripe invoice ID", "text", unique=True),
    FieldSpec("number", "Number", "text"),
    FieldSpec("status", "Status", "select", options=INVOICE_STATUSES),
    FieldSpec("amount_due", "Amount due", "number"),
    FieldSpec("amount_paid", "Amount paid", "number"),
    FieldSpec("amount_remaining", "Amount remaining", "number"),
    FieldSpec("currency", "Currency", "text"),
    FieldSpec("due_date", "Due date", "date"),
    FieldSpec("hosted_invoice_url", "Hosted invoice URL", "url"),
    FieldSpec("invoice_pdf", "Invoice PDF", "url"),
    FieldSpec("customer_email", "Customer email", "email"),
    FieldSpec("stripe_customer_id", "Stripe customer ID", "text"),
    FieldSpec("person", "Person", "record-reference", target_object=PEOPLE_OBJECT),
    FieldSpec("finalized_at", "Finalized at", "timestamp"),
    FieldSpec("paid_at", "Paid at", "timestamp"),
    FieldSpec("voided_at", "Voided at", "timestamp"),
    FieldSpec("livemode", "Live mode", "checkbox"),
)

FIELD_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS)
MATCH_FIELD = "stripe_invoice_id"  # the unique field records are upserted on

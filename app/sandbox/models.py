"""The emulator's records. Rendering to Stripe's JSON lives with each resource module."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Literal

from app.sandbox.collection import Collection

Access = Literal["none", "read", "write"]
KeyKind = Literal["secret", "restricted"]


@dataclass(slots=True)
class ApiKey:
    key: str
    account_id: str
    kind: KeyKind
    livemode: bool
    permissions: dict[str, Access] = field(default_factory=dict)
    revoked: bool = False


@dataclass(slots=True)
class Customer:
    id: str
    created: int
    livemode: bool
    email: str | None = None
    name: str | None = None
    description: str | None = None
    phone: str | None = None
    address: dict[str, Any] | None = None
    preferred_locales: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    invoice_prefix: str = ""
    next_invoice_sequence: int = 1
    currency: str | None = None
    tax_exempt: str = "none"
    deleted: bool = False


@dataclass(slots=True)
class Product:
    id: str
    created: int
    livemode: bool
    name: str
    active: bool = True
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    default_price: str | None = None
    images: list[str] = field(default_factory=list)
    url: str | None = None
    unit_label: str | None = None
    tax_code: str | None = None
    statement_descriptor: str | None = None
    updated: int = 0


@dataclass(slots=True)
class Price:
    id: str
    created: int
    livemode: bool
    product: str
    currency: str
    unit_amount: int
    active: bool = True
    recurring: dict[str, Any] | None = None
    nickname: str | None = None
    lookup_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tax_behavior: str = "unspecified"

    @property
    def type(self) -> str:
        return "recurring" if self.recurring else "one_time"


@dataclass(slots=True)
class LineItem:
    id: str
    invoice_item: str
    amount: int
    currency: str
    quantity: int
    unit_amount: int
    description: str | None
    price: str | None
    product: str | None
    period_start: int
    period_end: int
    metadata: dict[str, str] = field(default_factory=dict)
    discountable: bool = True


@dataclass(slots=True)
class InvoiceItem:
    id: str
    created: int
    livemode: bool
    customer: str
    amount: int
    currency: str
    quantity: int
    unit_amount: int
    description: str | None
    price: str | None
    product: str | None
    period_start: int
    period_end: int
    invoice: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    discountable: bool = True


@dataclass(slots=True)
class Invoice:
    id: str
    created: int
    livemode: bool
    customer: str
    currency: str | None
    collection_method: str = "charge_automatically"
    status: str = "draft"
    auto_advance: bool = False
    due_date: int | None = None
    days_until_due: int | None = None
    description: str | None = None
    footer: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    lines: list[LineItem] = field(default_factory=list)
    number: str | None = None
    amount_paid: int = 0
    attempt_count: int = 0
    attempted: bool = False
    paid_out_of_band: bool = False
    customer_email: str | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    finalized_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None
    marked_uncollectible_at: int | None = None
    sent_count: int = 0

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(slots=True)
class WebhookEndpoint:
    id: str
    created: int
    livemode: bool
    url: str
    enabled_events: list[str]
    secret: str
    api_version: str | None = None
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    status: str = "enabled"

    def wants(self, event_type: str) -> bool:
        return self.status == "enabled" and (
            "*" in self.enabled_events or event_type in self.enabled_events
        )


@dataclass(slots=True)
class Event:
    id: str
    created: int
    livemode: bool
    type: str
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None
    api_version: str
    request_id: str | None
    idempotency_key: str | None
    pending_webhooks: int = 0


@dataclass(slots=True)
class IdempotencyRecord:
    fingerprint: str
    status: int
    body: bytes


@dataclass
class Account:
    """One Stripe account: all of its objects, cursors and counters."""

    id: str
    livemode: bool
    created: int
    api_version: str
    invoice_prefix: str
    invoice_sequence: int = 0
    customers: Collection[Customer] = field(default_factory=Collection)
    deleted_customers: dict[str, Customer] = field(default_factory=dict)
    products: Collection[Product] = field(default_factory=Collection)
    prices: Collection[Price] = field(default_factory=Collection)
    invoices: Collection[Invoice] = field(default_factory=Collection)
    invoiceitems: Collection[InvoiceItem] = field(default_factory=Collection)
    webhook_endpoints: Collection[WebhookEndpoint] = field(default_factory=Collection)
    events: Collection[Event] = field(default_factory=Collection)
    idempotency: OrderedDict[str, IdempotencyRecord] = field(default_factory=OrderedDict)
    # endpoint id -> ids of events still to deliver there, oldest first
    webhook_queues: dict[str, deque[str]] = field(default_factory=dict)
    recent_requests: deque[float] = field(default_factory=deque)

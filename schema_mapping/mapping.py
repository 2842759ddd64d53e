"""`SchemaMapping`: which CRM object and attribute slugs hold each invoice field.

Stored per workspace as JSON. Every slug is editable; slugs must look like
`^[a-z][a-z0-9_]{0,62}$` and no two fields may share one. Fields missing from stored JSON take
their defaults, so adding a field later keeps old settings loadable.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.crm.protocol import AttributeSpec, ObjectInfo
from schema_mapping.spec import FIELD_KEYS, FIELDS, OBJECT_PLURAL, OBJECT_SINGULAR, OBJECT_SLUG

SLUG_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]


class SchemaMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    object_slug: Slug = OBJECT_SLUG
    stripe_invoice_id: Slug = "stripe_invoice_id"
    number: Slug = "number"
    status: Slug = "status"
    amount_due: Slug = "amount_due"
    amount_paid: Slug = "amount_paid"
    amount_remaining: Slug = "amount_remaining"
    currency: Slug = "currency"
    due_date: Slug = "due_date"
    hosted_invoice_url: Slug = "hosted_invoice_url"
    invoice_pdf: Slug = "invoice_pdf"
    customer_email: Slug = "customer_email"
    stripe_customer_id: Slug = "stripe_customer_id"
    person: Slug = "person"
    finalized_at: Slug = "finalized_at"
    paid_at: Slug = "paid_at"
    voided_at: Slug = "voided_at"
    livemode: Slug = "livemode"

    @model_validator(mode="after")
    def _distinct_slugs(self) -> SchemaMapping:
        seen: dict[str, str] = {}
        clashes: list[str] = []
        for key in FIELD_KEYS:
            slug = getattr(self, key)
            if slug in seen:
                clashes.append(f"{seen[slug]} and {key} both map to {slug!r}")
            seen.setdefault(slug, key)
        if clashes:
            raise ValueError("; ".join(clashes))
        return self

    @classmethod
    def default(cls) -> SchemaMapping:
        return cls()

    def slug(self, key: str) -> str:
        """The attribute slug of logical field `key`."""
        if key not in FIELD_KEYS:
            raise KeyError(key)
        return str(getattr(self, key))

    def field_slugs(self) -> dict[str, str]:
        """Logical field -> attribute slug, in spec order."""
        return {key: self.slug(key) for key in FIELD_KEYS}

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> SchemaMapping:
        return cls.model_validate_json(text)


def spec_for(mapping: SchemaMapping) -> tuple[ObjectInfo, list[AttributeSpec]]:
    """The object to ensure and the attributes it should have, under the mapped slugs."""
    info = ObjectInfo(slug=mapping.object_slug, singular=OBJECT_SINGULAR, plural=OBJECT_PLURAL)
    attributes = [
        AttributeSpec(
            slug=mapping.slug(f.key),
            title=f.title,
            type=f.type,
            unique=f.unique,
            options=f.options,
            target_object=f.target_object,
        )
        for f in FIELDS
    ]
    return info, attributes

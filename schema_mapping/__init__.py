"""The Stripe invoice object in the CRM: default field spec, user mapping, idempotent setup."""

from schema_mapping.mapping import SchemaMapping, spec_for
from schema_mapping.setup import AttributeReport, SchemaReport, check_schema, ensure_schema
from schema_mapping.values import invoice_to_values

__all__ = [
    "AttributeReport",
    "SchemaMapping",
    "SchemaReport",
    "check_schema",
    "ensure_schema",
    "invoice_to_values",
    "spec_for",
]

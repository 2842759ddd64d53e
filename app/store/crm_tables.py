"""Tables of the embedded CRM (the `local` backend): objects, attributes, records, and two index
tables that the database itself keeps honest.

`crm_unique_values` holds one row per (unique attribute, normalised value), so the UNIQUE primary key
decides which of two concurrent writers owns a key: the loser's transaction fails and re-reads.
`crm_references` indexes record-reference values, so "a company's people" is an indexed lookup.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
)

from app.store.tables import metadata

_WS_FK = ForeignKey("workspaces.id", ondelete="CASCADE")

crm_objects = Table(
    "crm_objects",
    metadata,
    Column("workspace_id", String(40), _WS_FK, primary_key=True),
    Column("slug", String(64), primary_key=True),
    Column("singular", String(200), nullable=False),
    Column("plural", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

crm_attributes = Table(
    "crm_attributes",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("object_slug", String(64), primary_key=True),
    Column("slug", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("type", String(32), nullable=False),
    Column("is_unique", Boolean, nullable=False, default=False),
    # A multi-valued attribute stores a JSON list (people.email_addresses); system attributes only.
    Column("is_multi", Boolean, nullable=False, default=False),
    Column("is_system", Boolean, nullable=False, default=False),
    Column("options", JSON, nullable=False, default=list),
    Column("target_object", String(64)),
    Column("position", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["workspace_id", "object_slug"],
        ["crm_objects.workspace_id", "crm_objects.slug"],
        ondelete="CASCADE",
        name="fk_crm_attributes_object",
    ),
)

crm_records = Table(
    "crm_records",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("object_slug", String(64), nullable=False),
    # {attribute_slug: plain JSON value}; named `data` because `Table.c.values` is a method.
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["workspace_id", "object_slug"],
        ["crm_objects.workspace_id", "crm_objects.slug"],
        ondelete="CASCADE",
        name="fk_crm_records_object",
    ),
    Index("ix_crm_records_listing", "workspace_id", "object_slug", "created_at", "id"),
)

crm_unique_values = Table(
    "crm_unique_values",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("object_slug", String(64), primary_key=True),
    Column("attribute_slug", String(64), primary_key=True),
    # The normalised value (emails lower-cased); long values are stored as a sha256 digest.
    Column("value_key", String(255), primary_key=True),
    Column(
        "record_id", String(40), ForeignKey("crm_records.id", ondelete="CASCADE"), nullable=False, index=True
    ),
)

crm_references = Table(
    "crm_references",
    metadata,
    Column("record_id", String(40), ForeignKey("crm_records.id", ondelete="CASCADE"), primary_key=True),
    Column("attribute_slug", String(64), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("target_id", String(40), nullable=False),
    Index("ix_crm_references_target", "workspace_id", "target_id", "attribute_slug"),
)

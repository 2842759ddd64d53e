"""Tables of the invoice sync: stored Stripe events, per-invoice guard state, backfill jobs."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from app.store.tables import metadata
from app.store.types import UTCDateTime

stripe_events = Table(
    "stripe_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(120), nullable=False),
    Column("type", String(80), nullable=False),
    Column("object_id", String(120)),
    Column("created", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("source", String(20), nullable=False),  # webhook | reconcile
    Column("status", String(20), nullable=False, index=True),  # pending | processed | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("processed_at", UTCDateTime()),
    UniqueConstraint("workspace_id", "event_id", name="uq_stripe_events_event"),
)

# The ordering guard: what the CRM record of an invoice reflects, and how new that is.
invoice_sync_state = Table(
    "invoice_sync_state",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("invoice_id", String(120), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("observed_at", BigInteger, nullable=False),  # Stripe event `created`, or fetch time
    Column("fingerprint", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    # The version last written to the CRM: behind `version` when a CRM write failed, so the next
    # observation (even an identical one) writes it again instead of skipping.
    Column("written_version", Integer, nullable=False, default=0, server_default="0"),
    Column("values", JSON, nullable=False),
    Column("crm_record_id", String(120)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

workspace_sync = Table(
    "workspace_sync",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("last_event_received_at", UTCDateTime()),
    Column("last_reconciled_at", UTCDateTime()),
    Column("reconcile_error", Text),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(20), nullable=False),  # queued | running | succeeded | failed
    # Set to "<kind>:<workspace>" while queued or running: the unique index allows one at a time.
    Column("active_key", String(120), unique=True),
    Column("cursor", String(120)),
    Column("pages", Integer, nullable=False, default=0),
    Column("seen", Integer, nullable=False, default=0),
    Column("created", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("unmatched", Integer, nullable=False, default=0),
    Column("error", Text),
    # Whoever runs the job holds a lease it renews per page; an expired lease means the runner died.
    Column("lease_owner", String(60)),
    Column("lease_expires_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
)

"""Table definitions (SQLAlchemy Core). One `metadata`; capability modules add their own tables
in `app/store/*_tables.py`, imported at the bottom so `create_schema` sees them all."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    MetaData,
    String,
    Table,
    Text,
)

from app.store.types import UTCDateTime

metadata = MetaData()

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    # sha256 of the token: tokens are high-entropy, so a plain digest is enough to verify them.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

connections = Table(
    "connections",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("mode", String(20), nullable=False),
    Column("key_ciphertext", Text, nullable=False),
    Column("key_masked", String(40), nullable=False),
    Column("account_id", String(80)),
    Column("livemode", Boolean, nullable=False, default=False),
    Column("missing_permissions", JSON, nullable=False, default=list),
    Column("connected_at", UTCDateTime(), nullable=False),
    Column("webhook_endpoint_id", String(80)),
    Column("webhook_secret_ciphertext", Text),
    Column("webhook_url", Text),
    Column("webhook_registered_at", UTCDateTime()),
    Column("webhook_error", Text),
)

settings = Table(
    "settings",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("sync_enabled", Boolean, nullable=False, default=True),
    Column("auto_create_people", Boolean, nullable=False, default=False),
    Column("schema_mapping", JSON),
    Column("updated_at", UTCDateTime(), nullable=False),
)
from app.store import (
    crm_tables,  # noqa: F401  (registers its tables)
    sync_tables,  # noqa: F401  (registers its tables)
    workflow_tables,  # noqa: F401  (registers its tables)
)

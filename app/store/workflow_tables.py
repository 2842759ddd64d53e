"""Tables of the block runtime: workflows, their runs and step results, host executions,
external trigger activations and their callback deliveries.

Exactly-once effects rest on unique keys here, not on the queue: one run per (workflow, event),
one execution per (workspace, execution id), one delivery per (activation, event).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from app.store.tables import metadata
from app.store.types import UTCDateTime

_WS_FK = "workspaces.id"

workflows = Table(
    "workflows",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey(_WS_FK, ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("trigger_block_id", String(80), nullable=False),
    Column("trigger_config", JSON, nullable=False),
    Column("steps", JSON, nullable=False),  # [{"block_id", "config", "key"?}]
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_workflows_trigger", "workspace_id", "trigger_block_id", "enabled"),
)

workflow_runs = Table(
    "workflow_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey(_WS_FK, ondelete="CASCADE"), nullable=False),
    Column("workflow_id", String(40), ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    # The Stripe event id, or the id of one CRM record update.
    Column("event_key", String(120), nullable=False),
    Column("trigger_outcome", JSON, nullable=False),
    # The steps as they were when the run was created: a run never changes shape midway.
    Column("steps", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # queued | running | retrying | succeeded | failed
    Column("current_step", Integer, nullable=False, default=0),
    Column("error", JSON),
    Column("lease_owner", String(60)),
    Column("lease_expires_at", UTCDateTime()),
    Column("next_attempt_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    UniqueConstraint("workflow_id", "event_key", name="uq_workflow_runs_event"),
    Index("ix_workflow_runs_status", "status"),
    Index("ix_workflow_runs_listing", "workflow_id", "created_at"),
)

workflow_run_steps = Table(
    "workflow_run_steps",
    metadata,
    Column("run_id", String(40), ForeignKey("workflow_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("block_id", String(80), nullable=False),
    Column("status", String(20), nullable=False),  # running | retrying | succeeded | failed
    Column("inputs", JSON),  # the rendered config
    Column("outcome", JSON),
    Column("error", JSON),  # {"code", "message", "retryable"}
    Column("attempts", Integer, nullable=False, default=0),
    Column("attempt_log", JSON, nullable=False),  # [{"attempt", "started_at", "finished_at", "error"?}]
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
)

block_executions = Table(
    "block_executions",
    metadata,
    Column("workspace_id", String(40), ForeignKey(_WS_FK, ondelete="CASCADE"), primary_key=True),
    Column("execution_id", String(200), primary_key=True),
    Column("block_id", String(80), nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # running | succeeded | failed
    Column("outcome", JSON),
    Column("error", JSON),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
)

block_activations = Table(
    "block_activations",
    metadata,
    Column("workspace_id", String(40), ForeignKey(_WS_FK, ondelete="CASCADE"), primary_key=True),
    Column("activation_id", String(200), primary_key=True),
    Column("block_id", String(80), nullable=False),
    Column("callback_url", Text, nullable=False),
    Column("config", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_block_activations_block", "workspace_id", "block_id", "active"),
)

block_deliveries = Table(
    "block_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), nullable=False),
    Column("activation_id", String(200), nullable=False),
    Column("event_key", String(120), nullable=False),
    Column("body", Text, nullable=False),  # the exact JSON posted, the same on every attempt
    Column("status", String(20), nullable=False),  # pending | delivered | failed | cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("next_attempt_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    UniqueConstraint("workspace_id", "activation_id", "event_key", name="uq_block_deliveries_event"),
    ForeignKeyConstraint(
        ["workspace_id", "activation_id"],
        ["block_activations.workspace_id", "block_activations.activation_id"],
        ondelete="CASCADE",
        name="fk_block_deliveries_activation",
    ),
    Index("ix_block_deliveries_status", "status"),
)

"""Firing triggers: for one event, one run per matching enabled workflow and one callback delivery
per matching active activation, each unique in the store, then queued.

Called at least once per event (Stripe resends, the sync's sweep re-processes), so creation is
insert-or-ignore on a unique key and queueing is repeated for whatever is still unfinished."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select

from app.secrets_box import new_id
from app.store.workflow_tables import block_activations, block_deliveries, workflow_runs, workflows
from blocks.crm_record_updated.block import BLOCK as RECORD_UPDATED
from blocks.crm_record_updated.block import RecordUpdatedConfig
from blocks.crm_record_updated.trigger import fires
from blocks.crm_record_updated.trigger import outcome as record_outcome
from blocks.deliveries import enqueue_delivery, insert_delivery
from blocks.registry import STRIPE_TRIGGERS
from blocks.runs import UNFINISHED, enqueue_run, insert_run
from blocks.stripe_trigger import trigger_outcome

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

# config of a workflow trigger or activation -> the outcome to fire with, or None to skip it.
OutcomeFor = Callable[[dict[str, Any]], "dict[str, Any] | None"]


async def fire(ctx: AppContext, workspace_id: str, block_id: str, event_key: str, outcome_for: OutcomeFor) -> int:
    """Create and queue the runs and deliveries this event owes; returns how many it touched."""
    async with ctx.store.connect() as conn:  # most events match nothing: no write lock for those
        flows = (await conn.execute(select(workflows).where(
            workflows.c.workspace_id == workspace_id, workflows.c.trigger_block_id == block_id,
            workflows.c.enabled.is_(True)))).all()
        activations = (await conn.execute(select(block_activations).where(
            block_activations.c.workspace_id == workspace_id, block_activations.c.block_id == block_id,
            block_activations.c.active.is_(True)))).all()
    runs = [(flow, o) for flow in flows if (o := outcome_for(flow.trigger_config)) is not None]
    deliveries = [(a, o) for a in activations if (o := outcome_for(a.config)) is not None]
    if not runs and not deliveries:
        return 0
    async with ctx.store.begin() as conn:
        run_ids = [await insert_run(conn, workspace_id, flow, event_key, o) for flow, o in runs]
        delivery_ids = [await insert_delivery(conn, workspace_id, a, event_key, o) for a, o in deliveries]
        open_runs = (await conn.execute(select(workflow_runs.c.id).where(
            workflow_runs.c.id.in_(run_ids), workflow_runs.c.status.in_(UNFINISHED)))).scalars().all()
        open_deliveries = (await conn.execute(select(block_deliveries.c.id).where(
            block_deliveries.c.id.in_(delivery_ids), block_deliveries.c.status == "pending"))).scalars().all()
    for run_id in open_runs:
        await enqueue_run(ctx, run_id)
    for delivery_id in open_deliveries:
        await enqueue_delivery(ctx, delivery_id)
    return len(runs) + len(deliveries)


async def dispatch_stripe_event(ctx: AppContext, workspace_id: str, event: dict[str, Any], person_id: str | None) -> None:
    """Hook called by `app.sync.events.process_event` after the invoice upsert."""
    block = STRIPE_TRIGGERS.get(str(event.get("type")))
    if block is None:
        return
    outcome = trigger_outcome(event, person_id)
    await fire(ctx, workspace_id, block.id, str(event["id"]), lambda _config: outcome)


async def dispatch_record_updated(ctx: AppContext, workspace_id: str, object_slug: str, record_id: str,
                                  values: dict[str, Any], previous: dict[str, Any]) -> None:
    """Called by the embedded CRM after it commits an update of a record."""
    event_key = new_id("crmupd")  # each committed update is its own event

    def outcome_for(raw: dict[str, Any]) -> dict[str, Any] | None:
        try:
            config = RecordUpdatedConfig.model_validate(raw)
        except ValidationError:
            log.warning("skipping a crm.record_updated trigger with an invalid config", extra={"config": raw})
            return None
        if config.object != object_slug or not fires(config, values, previous):
            return None
        return record_outcome(event_key, object_slug, record_id, config.attribute, values, previous)

    await fire(ctx, workspace_id, RECORD_UPDATED.id, event_key, outcome_for)

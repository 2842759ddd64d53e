"""Callbacks to activated external triggers: one per (activation, event), signed, retried with
backoff, cancelled by deactivation; and whether the workspace needs the Stripe webhook."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from app.context import AppContext
from app.errors import AppError
from app.store.workflow_tables import block_deliveries
from blocks.activations import ActivateRequest, activate, deactivate, has_active_triggers
from blocks.deliveries import DELIVER_JOB, deliver_callback
from blocks.dispatch import dispatch_record_updated, dispatch_stripe_event
from blocks.retry import RetryPolicy
from blocks.signing import SIGNATURE_HEADER, verify
from blocks.validation import WorkflowSpec
from blocks.workflows import WorkflowPatch, create_workflow, delete_workflow, update_workflow
from tests.blocks.support import Receiver, RecordingJobs, paid_event, serving

FAST = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.02)


def queued(ctx: AppContext) -> list[tuple[str, float, dict[str, Any]]]:
    assert isinstance(ctx.jobs, RecordingJobs)
    return [q for q in ctx.jobs.queued if q[0] == DELIVER_JOB]


async def statuses(ctx: AppContext, workspace_id: str) -> list[tuple[str, int]]:
    async with ctx.store.connect() as conn:
        rows = (await conn.execute(select(block_deliveries.c.status, block_deliveries.c.attempts)
                                   .where(block_deliveries.c.workspace_id == workspace_id))).all()
    return [(r.status, r.attempts) for r in rows]


async def test_delivery_is_unique_signed_and_retried(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    receiver = Receiver(statuses=[502])
    async with serving(receiver.app()) as target:
        result = await activate(quiet_ctx, quiet_workspace, "stripe.invoice_paid",
                                ActivateRequest(callback_url=f"{target}/cb", activation_id="a1"))
        for _ in range(2):
            await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), None)
        delivery_ids = {q[2]["delivery_id"] for q in queued(quiet_ctx)}
        assert len(delivery_ids) == 1 and await statuses(quiet_ctx, quiet_workspace) == [("pending", 0)]
        (delivery_id,) = delivery_ids

        await deliver_callback(quiet_ctx, delivery_id, policy=FAST)
        assert await statuses(quiet_ctx, quiet_workspace) == [("pending", 1)]
        await asyncio.sleep(queued(quiet_ctx)[-1][1] + 0.01)
        await deliver_callback(quiet_ctx, delivery_id, policy=FAST)
        await deliver_callback(quiet_ctx, delivery_id, policy=FAST)  # delivered: nothing more to do
    assert await statuses(quiet_ctx, quiet_workspace) == [("delivered", 2)]
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.body == second.body and first.json()["outcome"]["invoice"]["status"] == "paid"
    assert first.headers["idempotency-key"] == delivery_id
    for request in receiver.requests:
        assert verify(result["secret"], request.body, request.headers[SIGNATURE_HEADER.lower()])


async def test_deactivation_cancels_pending_deliveries(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    receiver = Receiver()
    async with serving(receiver.app()) as target:
        await activate(quiet_ctx, quiet_workspace, "stripe.invoice_paid", ActivateRequest(callback_url=f"{target}/cb", activation_id="a1"))
        await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), None)
        result = await deactivate(quiet_ctx, quiet_workspace, "stripe.invoice_paid", "a1")
        assert result["was_active"] is True
        assert (await deactivate(quiet_ctx, quiet_workspace, "stripe.invoice_paid", "a1"))["was_active"] is False
        await deliver_callback(quiet_ctx, queued(quiet_ctx)[0][2]["delivery_id"], policy=FAST)
        await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event("evt_later"), None)
    assert receiver.requests == [] and await statuses(quiet_ctx, quiet_workspace) == [("cancelled", 0)] and len(queued(quiet_ctx)) == 1


async def test_activation_is_checked(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    with pytest.raises(AppError, match="is a step, not a trigger"):
        await activate(quiet_ctx, quiet_workspace, "http.request", ActivateRequest(callback_url="http://h/x", activation_id="a"))
    with pytest.raises(AppError, match="condition 'equals' needs a value"):
        await activate(quiet_ctx, quiet_workspace, "crm.record_updated", ActivateRequest(
            callback_url="http://h/x", activation_id="a", config={"object": "deals", "attribute": "stage"}))
    await activate(quiet_ctx, quiet_workspace, "stripe.invoice_paid", ActivateRequest(callback_url="http://h/x", activation_id="a"))
    with pytest.raises(AppError, match="belongs to block 'stripe.invoice_paid'"):
        await activate(quiet_ctx, quiet_workspace, "stripe.invoice_voided", ActivateRequest(callback_url="http://h/x", activation_id="a"))


async def test_crm_activation_fires_on_matching_updates_only(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    config = {"object": "deals", "attribute": "stage", "value": "Won"}
    await activate(quiet_ctx, quiet_workspace, "crm.record_updated",
                   ActivateRequest(callback_url="http://127.0.0.1:9/cb", activation_id="crm", config=config))
    await dispatch_record_updated(quiet_ctx, quiet_workspace, "deals", "rec_1", {"stage": "Lead"}, {"stage": "New"})
    await dispatch_record_updated(quiet_ctx, quiet_workspace, "companies", "rec_2", {"stage": "Won"}, {})
    assert queued(quiet_ctx) == []
    await dispatch_record_updated(quiet_ctx, quiet_workspace, "deals", "rec_1", {"stage": "Won"}, {"stage": "Lead"})
    assert len(queued(quiet_ctx)) == 1


async def test_has_active_triggers_follows_workflows_and_activations(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    ws = quiet_workspace
    assert await has_active_triggers(quiet_ctx, ws) is False
    crm_only = WorkflowSpec.model_validate({
        "name": "CRM", "trigger": {"block_id": "crm.record_updated", "config": {"object": "deals", "attribute": "stage", "condition": "changed"}},
        "steps": [{"block_id": "http.request", "config": {"url": "http://127.0.0.1:9/x"}}]})
    await create_workflow(quiet_ctx, ws, crm_only)
    assert await has_active_triggers(quiet_ctx, ws) is False  # the Stripe webhook is not needed for it

    stripe = WorkflowSpec.model_validate({**crm_only.model_dump(), "trigger": {"block_id": "stripe.invoice_voided"}})
    workflow_id = (await create_workflow(quiet_ctx, ws, stripe))["id"]
    assert await has_active_triggers(quiet_ctx, ws) is True
    await update_workflow(quiet_ctx, ws, workflow_id, WorkflowPatch(enabled=False))
    assert await has_active_triggers(quiet_ctx, ws) is False
    await update_workflow(quiet_ctx, ws, workflow_id, WorkflowPatch(enabled=True))
    await delete_workflow(quiet_ctx, ws, workflow_id)
    assert await has_active_triggers(quiet_ctx, ws) is False

    await activate(quiet_ctx, ws, "stripe.invoice_finalized", ActivateRequest(callback_url="http://h/x", activation_id="a"))
    assert await has_active_triggers(quiet_ctx, ws) is True
    await deactivate(quiet_ctx, ws, "stripe.invoice_finalized", "a")
    assert await has_active_triggers(quiet_ctx, ws) is False

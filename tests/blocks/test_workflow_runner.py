"""Runs executed step by step: retried with backoff on retryable errors (bounded, every attempt
recorded), stopped at once on the others; one run per (workflow, event); one worker per run."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.clock import utcnow
from app.context import AppContext
from app.store.workflow_tables import workflow_runs
from blocks.activations import ActivateRequest, activate
from blocks.deliveries import DELIVER_JOB
from blocks.dispatch import dispatch_stripe_event
from blocks.retry import RetryPolicy
from blocks.runner import run_workflow
from blocks.runs import RUN_JOB, list_runs
from blocks.validation import WorkflowSpec
from blocks.workflows import create_workflow
from tests.blocks.support import Receiver, RecordingJobs, paid_event, serving

FAST = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.02)


async def notify_workflow(ctx: AppContext, ws: str, url: str) -> str:
    spec = WorkflowSpec.model_validate({
        "name": "Notify", "trigger": {"block_id": "stripe.invoice_paid"},
        "steps": [{"block_id": "http.request", "config": {
            "url": url, "body": {"text": "{{ trigger.invoice.number }} paid: {{ trigger.invoice.amount_paid_major }}"}}}],
    })
    return str((await create_workflow(ctx, ws, spec))["id"])


async def only_run(ctx: AppContext, ws: str, workflow_id: str) -> dict[str, Any]:
    runs = await list_runs(ctx, ws, workflow_id)
    assert len(runs) == 1
    return runs[0]


def queued_runs(ctx: AppContext) -> list[tuple[str, float, dict[str, Any]]]:
    assert isinstance(ctx.jobs, RecordingJobs)
    return [q for q in ctx.jobs.queued if q[0] == RUN_JOB]


async def test_retryable_failure_is_retried_with_backoff_then_succeeds(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    receiver = Receiver(statuses=[503])
    async with serving(receiver.app()) as target:
        workflow_id = await notify_workflow(quiet_ctx, quiet_workspace, f"{target}/chat")
        await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), "rec_person")
        run_id = queued_runs(quiet_ctx)[0][2]["run_id"]

        await run_workflow(quiet_ctx, run_id, policy=FAST)
        run = await only_run(quiet_ctx, quiet_workspace, workflow_id)
        assert run["status"] == "retrying" and run["next_attempt_at"]
        assert run["steps"][0]["status"] == "retrying" and run["steps"][0]["error"]["retryable"] is True
        _, delay, kwargs = queued_runs(quiet_ctx)[-1]
        assert kwargs == {"run_id": run_id} and 0 < delay <= FAST.cap_s

        await asyncio.sleep(delay + 0.01)
        await run_workflow(quiet_ctx, run_id, policy=FAST)

    run = await only_run(quiet_ctx, quiet_workspace, workflow_id)
    assert run["status"] == "succeeded" and run["error"] is None and run["finished_at"]
    assert run["trigger"]["invoice"]["person_id"] == "rec_person"
    step = run["steps"][0]
    assert step["status"] == "succeeded" and step["attempts"] == 2
    assert [("error" in a) for a in step["attempt_log"]] == [True, False]
    assert step["attempt_log"][0]["error"]["code"] == "http_upstream_error"
    assert step["inputs"]["body"] == {"text": "ABC-0001 paid: 10.0"}
    assert [r.json() for r in receiver.requests] == [{"text": "ABC-0001 paid: 10.0"}] * 2
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {f"{run_id}.0"}


async def test_non_retryable_failure_stops_the_run(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    receiver = Receiver(statuses=[404])
    async with serving(receiver.app()) as target:
        workflow_id = await notify_workflow(quiet_ctx, quiet_workspace, f"{target}/gone")
        await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), None)
        await run_workflow(quiet_ctx, queued_runs(quiet_ctx)[0][2]["run_id"], policy=FAST)
    run = await only_run(quiet_ctx, quiet_workspace, workflow_id)
    assert run["status"] == "failed" and len(receiver.requests) == 1
    assert run["error"]["step"] == 0 and run["error"]["block_id"] == "http.request"
    assert run["error"]["code"] == "http_rejected" and run["error"]["retryable"] is False and "404" in run["error"]["message"]
    assert run["steps"][0]["attempts"] == 1 and len(queued_runs(quiet_ctx)) == 1


async def test_attempts_are_bounded(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    receiver = Receiver(statuses=[500, 500, 500, 500])
    async with serving(receiver.app()) as target:
        workflow_id = await notify_workflow(quiet_ctx, quiet_workspace, f"{target}/down")
        await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), None)
        run_id = queued_runs(quiet_ctx)[0][2]["run_id"]
        for _ in range(FAST.max_attempts + 1):
            await asyncio.sleep(FAST.cap_s + 0.01)
            await run_workflow(quiet_ctx, run_id, policy=FAST)
    run = await only_run(quiet_ctx, quiet_workspace, workflow_id)
    assert run["status"] == "failed" and run["steps"][0]["attempts"] == FAST.max_attempts
    assert len(receiver.requests) == FAST.max_attempts and len(run["steps"][0]["attempt_log"]) == FAST.max_attempts


async def test_one_run_per_workflow_and_event_and_one_worker_per_run(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    receiver = Receiver()
    async with serving(receiver.app()) as target:
        await notify_workflow(quiet_ctx, quiet_workspace, f"{target}/a")
        await notify_workflow(quiet_ctx, quiet_workspace, f"{target}/b")
        for _ in range(3):
            await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event("evt_same"), None)
        async with quiet_ctx.store.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(workflow_runs).where(
                workflow_runs.c.workspace_id == quiet_workspace)) == 2
        run_ids = {q[2]["run_id"] for q in queued_runs(quiet_ctx)}
        assert len(run_ids) == 2
        await asyncio.gather(*(run_workflow(quiet_ctx, r) for r in run_ids for _ in range(3)))
        for run_id in run_ids:  # finished runs are not run again
            await run_workflow(quiet_ctx, run_id)
    assert sorted(r.path for r in receiver.requests) == ["/a", "/b"]


async def test_a_reference_that_is_null_at_run_time_fails_clearly(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    spec = WorkflowSpec.model_validate({
        "name": "Bad url", "trigger": {"block_id": "stripe.invoice_paid"},
        "steps": [{"block_id": "http.request", "config": {"url": "{{ trigger.invoice.hosted_invoice_url }}"}}],
    })
    workflow_id = (await create_workflow(quiet_ctx, quiet_workspace, spec))["id"]
    await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), None)
    await run_workflow(quiet_ctx, queued_runs(quiet_ctx)[0][2]["run_id"], policy=FAST)
    run = await only_run(quiet_ctx, quiet_workspace, workflow_id)
    assert run["status"] == "failed" and run["error"]["code"] == "invalid_config" and run["error"]["retryable"] is False
    assert "url" in run["error"]["message"] and run["steps"][0]["inputs"] == {"url": None}


async def test_disabled_workflows_do_not_fire(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    spec = WorkflowSpec.model_validate({"name": "Off", "enabled": False, "trigger": {"block_id": "stripe.invoice_paid"},
                                        "steps": [{"block_id": "http.request", "config": {"url": "http://127.0.0.1:9/x"}}]})
    await create_workflow(quiet_ctx, quiet_workspace, spec)
    await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), None)
    await dispatch_stripe_event(quiet_ctx, quiet_workspace, {**paid_event(), "type": "invoice.created"}, None)
    assert queued_runs(quiet_ctx) == []


async def test_recovery_requeues_unfinished_runs_and_deliveries(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    workflow_id = await notify_workflow(quiet_ctx, quiet_workspace, "http://127.0.0.1:9/x")
    await activate(quiet_ctx, quiet_workspace, "stripe.invoice_paid", ActivateRequest(callback_url="http://h/x", activation_id="a"))
    await dispatch_stripe_event(quiet_ctx, quiet_workspace, paid_event(), None)
    assert isinstance(quiet_ctx.jobs, RecordingJobs)
    delivery_ids = {str(kw["delivery_id"]) for name, _, kw in quiet_ctx.jobs.queued if name == DELIVER_JOB}
    async with quiet_ctx.store.begin() as conn:
        await conn.execute(update(workflow_runs).where(workflow_runs.c.workspace_id == quiet_workspace).values(
            status="retrying", next_attempt_at=utcnow() + timedelta(seconds=60)))
    assert isinstance(quiet_ctx.jobs, RecordingJobs)
    quiet_ctx.jobs.queued.clear()

    (run,) = await list_runs(quiet_ctx, quiet_workspace, workflow_id)
    await quiet_ctx.recover()  # what start-up does
    mine = {name: delay for name, delay, kwargs in quiet_ctx.jobs.queued
            if kwargs.get("run_id") == run["id"] or str(kwargs.get("delivery_id", "")) in delivery_ids}
    assert set(mine) == {RUN_JOB, DELIVER_JOB}
    assert 55 < mine[RUN_JOB] <= 60 and mine[DELIVER_JOB] == 0

"""A real `invoicing worker` (arq on Redis) is SIGKILLed while a workflow run's step is in flight
(the step's HTTP request has reached the receiver, which holds it). A restarted worker takes the
run over once its lease lapses, re-runs the step with the same Idempotency-Key (the execution id)
and finishes it: one run for the (workflow, event), succeeded, the step's effect keyed once.

The workers run with WORKFLOW_LEASE_S shortened to 4 s (the product's is 180 s, the longest
a step may take before another worker may assume its runner died), so the test does not wait 3 min."""

from __future__ import annotations

import asyncio
import copy
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.context import AppContext, build_context
from app.store.workflow_tables import workflow_run_steps, workflow_runs
from app.sync.intake import store_event
from bench.scale_out import Processes, running_receiver
from blocks.validation import WorkflowSpec
from blocks.workflows import create_workflow
from tests.conftest import make_settings
from tests.reliability.conftest import SHARED_REDIS_URL, app_env, wait_for
from tests.sync.conftest import connect_without_webhook

pytestmark = [pytest.mark.slow, pytest.mark.redis]

TEMPLATE: dict[str, Any] = json.loads((Path(__file__).parents[1] / "data" / "stripe" / "invoice.json").read_text())
SHORT_LEASE_WORKER = "from app.cli import main; main(['worker'])"


@pytest.fixture
async def rctx(tmp_path: Path, emulator: Any, redis_prefix: str) -> AsyncIterator[AppContext]:
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url, redis_url=SHARED_REDIS_URL,
                             redis_key_prefix=redis_prefix)
    ctx = await build_context(settings)
    try:
        yield ctx
    finally:
        await ctx.aclose()


def _paid_event(invoice_id: str) -> dict[str, Any]:
    invoice = copy.deepcopy(TEMPLATE)
    invoice.update(id=invoice_id, status="paid", amount_paid=1000, amount_remaining=0, number="KILL-1",
                   customer_email="kill@example.com")
    return {"id": f"evt_{invoice_id}", "object": "event", "type": "invoice.paid", "created": 1_790_000_000,
            "api_version": None, "livemode": False, "data": {"object": invoice}}


async def _run_state(ctx: AppContext, workflow_id: str) -> list[Any]:
    async with ctx.store.connect() as conn:
        runs = (await conn.execute(select(workflow_runs).where(workflow_runs.c.workflow_id == workflow_id))).all()
        steps = (await conn.execute(select(workflow_run_steps).where(
            workflow_run_steps.c.run_id.in_([r.id for r in runs])))).all() if runs else []
    return [runs, steps]


async def test_worker_sigkilled_mid_step_then_restarted(rctx: AppContext, emulator: Any, tmp_path: Path,
                                                        procs: Processes) -> None:
    account_id, key = emulator.new_account()
    ws = await connect_without_webhook(rctx, key, account_id)
    s = rctx.settings
    env = app_env(database_url=s.database_url, redis_url=SHARED_REDIS_URL, prefix=s.redis_key_prefix,
                  stripe_base=emulator.base_url, data_dir=tmp_path, APP_SECRET="test-app-secret",
                  SWEEP_INTERVAL_S="1", PENDING_EVENT_GRACE_S="1", WORKFLOW_LEASE_S="4")
    with running_receiver() as receiver:
        receiver.hold.set()
        workflow = await create_workflow(rctx, ws, WorkflowSpec.model_validate({
            "name": "Paid -> receiver",
            "trigger": {"block_id": "stripe.invoice_paid", "config": {}},
            "steps": [{"block_id": "http.request", "config": {
                "url": receiver.url, "body": {"event_id": "{{ trigger.event_id }}"}}}],
        }))
        event = _paid_event("in_killmidstep0001")
        procs.start_python("worker-1", SHORT_LEASE_WORKER, env)
        assert not (await store_event(rctx, ws, event, source="webhook")).duplicate
        for _ in range(300):  # until the step's request is at the receiver, held there
            if receiver.arrived.is_set():
                break
            await asyncio.sleep(0.1)
        assert receiver.arrived.is_set(), procs.tail("worker-1")

        procs.kill("worker-1", signal.SIGKILL)
        receiver.hold.clear()  # the dead worker's request completes at the receiver (an effect, once)
        runs, steps = await _run_state(rctx, workflow["id"])
        assert [r.status for r in runs] == ["running"] and [st.attempts for st in steps] == [1]

        procs.start_python("worker-2", SHORT_LEASE_WORKER, env)

        async def finished() -> list[Any] | None:
            state = await _run_state(rctx, workflow["id"])
            return state if state[0] and state[0][0].status in ("succeeded", "failed") else None

        try:
            runs, steps = await wait_for(finished, timeout_s=40, interval_s=0.2, what="the run to finish")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{procs.tail('worker-2')}") from None
        assert len(runs) == 1 and runs[0].status == "succeeded", runs
        assert runs[0].event_key == event["id"]
        assert len(steps) == 1 and steps[0].status == "succeeded" and steps[0].attempts == 2, steps
        keys = receiver.keys()
        assert list(keys) == [f"{runs[0].id}.0"], keys  # every call carried the same execution id

        # Stripe resends the event: stored once, no second run.
        assert (await store_event(rctx, ws, event, source="webhook")).duplicate
        runs, _ = await _run_state(rctx, workflow["id"])
        assert len(runs) == 1

"""End to end: "payment failed -> void the invoice" voids it once, however often the event comes."""

from __future__ import annotations

import json
import time
from typing import Any

from app.sandbox.delivery import signature_header
from app.store.connections import get_connection
from blocks.dispatch import dispatch_stripe_event
from tests.blocks.support import Stack, eventually, open_invoice

VOID_ON_FAILURE = {
    "name": "Void on failed payment",
    "trigger": {"block_id": "stripe.invoice_payment_failed", "config": {}},
    "steps": [{"block_id": "stripe.update_invoice_status",
               "config": {"invoice_id": "{{ trigger.invoice.id }}", "action": "void"}}],
}


async def _runs(stack: Stack, workflow_id: str) -> list[dict[str, Any]]:
    response = await stack.admin.get(f"/api/workflows/{workflow_id}/runs")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def _resend_signed(stack: Stack, event: dict[str, Any]) -> dict[str, Any]:
    """Deliver `event` to our webhook as Stripe would: signed with the endpoint's secret."""
    row = await get_connection(stack.ctx.store, stack.ws)
    assert row is not None and row.webhook_secret_ciphertext and row.webhook_url
    payload = json.dumps(event)
    header = signature_header(stack.ctx.box.decrypt(row.webhook_secret_ciphertext), payload, int(time.time()))
    response = await stack.admin.post(row.webhook_url, content=payload, headers={"Stripe-Signature": header})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_payment_failed_voids_the_invoice_once(stack: Stack) -> None:
    created = await stack.admin.post("/api/workflows", json=VOID_ON_FAILURE)
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    person = await stack.operator.post("/api/crm/people", json={"name": "Late Payer", "email": "late.payer@example.com"})
    assert person.status_code == 201, person.text
    invoice = await open_invoice(stack.gateway, "late.payer@example.com")

    failed = await stack.admin.post(f"{stack.emulator.base_url}/_emulator/invoices/{invoice['id']}/payment_failed")
    assert failed.status_code == 200, failed.text

    async def finished() -> list[dict[str, Any]] | None:
        runs = await _runs(stack, workflow_id)
        return runs if runs and runs[0]["status"] in ("succeeded", "failed") else None

    runs = await eventually(finished, what="the workflow run")
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "succeeded", run
    assert run["trigger"]["invoice"]["id"] == invoice["id"]
    assert run["trigger"]["invoice"]["amount_due"] == 1500 and run["trigger"]["invoice"]["amount_due_major"] == 15.0
    assert run["trigger"]["invoice"]["person_id"] == person.json()["id"]  # linked by the sync's upsert
    step = run["steps"][0]
    assert step["inputs"] == {"invoice_id": invoice["id"], "action": "void"}
    assert step["outcome"]["status"] == "void" and step["attempts"] == 1 and len(step["attempt_log"]) == 1

    # Stripe delivers the same event again (twice), and the sync re-processes it: still one run.
    event = (await stack.admin.get(f"{stack.emulator.base_url}/v1/events/{run['event_id']}",
                                   headers={"Authorization": f"Bearer {stack.stripe_key}"})).json()
    assert (await _resend_signed(stack, event))["duplicate"] is True
    assert (await _resend_signed(stack, event))["duplicate"] is True
    await dispatch_stripe_event(stack.ctx, stack.ws, event, None)
    await dispatch_stripe_event(stack.ctx, stack.ws, event, None)
    await stack.ctx.jobs.drain()  # type: ignore[attr-defined]

    assert len(await _runs(stack, workflow_id)) == 1
    voids = [r for r in stack.emulator.state.requests() if r.path == f"/v1/invoices/{invoice['id']}/void"]
    assert len(voids) == 1 and voids[0].status == 200
    assert (await stack.gateway.retrieve_invoice(invoice["id"]))["status"] == "void"


async def test_a_stripe_workflow_keeps_the_webhook_registered_with_sync_off(stack: Stack) -> None:
    async def endpoint() -> str | None:
        row = await get_connection(stack.ctx.store, stack.ws)
        assert row is not None
        return row.webhook_endpoint_id

    assert await endpoint()
    assert (await stack.admin.patch("/api/settings", json={"sync_enabled": False})).status_code == 200
    assert await endpoint() is None  # nothing needs it now

    created = await stack.admin.post("/api/workflows", json=VOID_ON_FAILURE)
    assert created.status_code == 201 and "webhook_warning" not in created.json()
    assert await endpoint()
    disabled = await stack.admin.patch(f"/api/workflows/{created.json()['id']}", json={"enabled": False})
    assert disabled.status_code == 200 and await endpoint() is None
    await stack.admin.patch(f"/api/workflows/{created.json()['id']}", json={"enabled": True})
    assert await endpoint()
    assert (await stack.admin.delete(f"/api/workflows/{created.json()['id']}")).status_code == 200
    assert await endpoint() is None

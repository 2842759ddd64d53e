"""End to end, as an external host: activated triggers get one signed callback per event (none
after deactivation), and `execute` is idempotent per execution id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.store.sync_tables import stripe_events
from blocks.dispatch import dispatch_stripe_event
from blocks.signing import SIGNATURE_HEADER, verify
from tests.blocks.support import Receiver, Stack, eventually, open_invoice, serving, until


async def _execute(stack: Stack, block_id: str, config: dict[str, Any], execution_id: str) -> tuple[int, dict[str, Any]]:
    response = await stack.operator.post(f"/api/blocks/{block_id}/execute",
                                         json={"config": config, "execution_id": execution_id})
    return response.status_code, response.json()


async def _processed(stack: Stack, event_type: str, invoice_id: str) -> dict[str, Any] | None:
    async with stack.ctx.store.connect() as conn:
        row = (await conn.execute(select(stripe_events).where(
            stripe_events.c.workspace_id == stack.ws, stripe_events.c.type == event_type,
            stripe_events.c.object_id == invoice_id, stripe_events.c.status == "processed"))).first()
    return {"event_id": row.event_id} if row else None


async def test_activated_trigger_gets_one_signed_callback_per_event(stack: Stack) -> None:
    receiver = Receiver()
    async with serving(receiver.app()) as target:
        activated = await stack.operator.post("/api/blocks/stripe.invoice_paid/activate", json={
            "callback_url": f"{target}/hooks/paid", "activation_id": "host-act-1"})
        assert activated.status_code == 200, activated.text
        secret = activated.json()["secret"]
        again = await stack.operator.post("/api/blocks/stripe.invoice_paid/activate", json={
            "callback_url": f"{target}/hooks/paid", "activation_id": "host-act-1"})
        assert again.json()["secret"] == secret  # a host retrying activate gets the same secret

        first = await open_invoice(stack.gateway, "host.one@example.com", tag="1")
        status, body = await _execute(stack, "stripe.update_invoice_status", {"invoice_id": first["id"], "action": "pay"}, "pay-1")
        assert status == 200, body
        await eventually(lambda: _processed(stack, "invoice.paid", first["id"]), what="invoice.paid processed")
        await until(lambda: len(receiver.requests) >= 1, what="the callback")

        event = (await stack.admin.get(f"{stack.emulator.base_url}/v1/events/{receiver.requests[0].json()['event_id']}",
                                       headers={"Authorization": f"Bearer {stack.stripe_key}"})).json()
        await dispatch_stripe_event(stack.ctx, stack.ws, event, None)  # the event processed again
        await stack.ctx.jobs.drain()  # type: ignore[attr-defined]

        assert len(receiver.requests) == 1
        callback = receiver.requests[0]
        assert callback.path == "/hooks/paid"
        assert verify(secret, callback.body, callback.headers[SIGNATURE_HEADER.lower()])
        assert not verify("whsec_wrong", callback.body, callback.headers[SIGNATURE_HEADER.lower()])
        payload = callback.json()
        assert payload["activation_id"] == "host-act-1" and payload["block_id"] == "stripe.invoice_paid"
        assert payload["outcome"]["invoice"]["id"] == first["id"] and payload["outcome"]["invoice"]["status"] == "paid"

        deactivated = await stack.operator.post("/api/blocks/stripe.invoice_paid/deactivate",
                                                json={"activation_id": "host-act-1"})
        assert deactivated.status_code == 200 and deactivated.json()["was_active"] is True
        second = await open_invoice(stack.gateway, "host.two@example.com", tag="2")
        status, body = await _execute(stack, "stripe.update_invoice_status", {"invoice_id": second["id"], "action": "pay"}, "pay-2")
        assert status == 200, body
        await eventually(lambda: _processed(stack, "invoice.paid", second["id"]), what="second invoice.paid processed")
        await stack.ctx.jobs.drain()  # type: ignore[attr-defined]
        assert len(receiver.requests) == 1


async def test_execute_is_idempotent_per_execution_id(stack: Stack) -> None:
    invoice = await open_invoice(stack.gateway, "exec@example.com")
    config = {"invoice_id": invoice["id"], "action": "void"}
    first = await _execute(stack, "stripe.update_invoice_status", config, "exec-void-1")
    second = await _execute(stack, "stripe.update_invoice_status", config, "exec-void-1")
    assert first == second
    assert first[0] == 200 and first[1]["outcome"]["status"] == "void"
    voids = [r for r in stack.emulator.state.requests() if r.path == f"/v1/invoices/{invoice['id']}/void"]
    assert len(voids) == 1

    # A transition Stripe forbids: a clear error a retry cannot fix, also stored.
    status, body = await _execute(stack, "stripe.update_invoice_status", {"invoice_id": invoice["id"], "action": "pay"}, "exec-pay")
    assert status == 422 and body["error"]["code"] == "invalid_transition" and body["error"]["retryable"] is False
    assert "it is void" in body["error"]["message"]
    assert await _execute(stack, "stripe.update_invoice_status", {"invoice_id": invoice["id"], "action": "pay"}, "exec-pay") == (status, body)

    # The same id with another config is a mistake, not a replay.
    status, body = await _execute(stack, "stripe.update_invoice_status", {"invoice_id": invoice["id"], "action": "send"}, "exec-void-1")
    assert status == 409 and body["error"]["fields"] == {"execution_id": "already used"}

    status, body = await _execute(stack, "stripe.update_invoice_status", {"invoice_id": invoice["id"], "action": "nope"}, "exec-bad")
    assert status == 422 and body["error"]["code"] == "invalid_config" and "action" in body["error"]["message"]

    created = await _execute(stack, "stripe.create_customer", {"email": "New.Client@Example.com", "name": "New Client"}, "cus-1")
    assert created[0] == 200 and created[1]["outcome"]["created"] is True, created
    assert created[1]["outcome"]["email"] == "new.client@example.com" and created[1]["outcome"]["name"] == "New Client"
    assert await _execute(stack, "stripe.create_customer", {"email": "New.Client@Example.com", "name": "New Client"}, "cus-1") == created
    updated = await _execute(stack, "stripe.create_customer", {"email": "new.client@example.com", "phone": "+15550100"}, "cus-2")
    assert updated[1]["outcome"] == {**created[1]["outcome"], "created": False, "updated": True}
    assert len(await stack.gateway.find_customers_by_email("new.client@example.com")) == 1

"""End to end: "deal stage becomes Won -> create invoice -> http.request", fed by the embedded CRM."""

from __future__ import annotations

from typing import Any

from tests.blocks.support import Receiver, Stack, eventually, serving


async def _deals_object(stack: Stack) -> None:
    created = await stack.operator.post("/api/crm/objects", json={"slug": "deals", "singular": "Deal", "plural": "Deals"})
    assert created.status_code == 201, created.text
    for attribute in (
        {"slug": "name", "title": "Name", "type": "text"},
        {"slug": "stage", "title": "Stage", "type": "select", "options": ["Lead", "Won", "Lost"]},
        {"slug": "amount", "title": "Amount (cents)", "type": "number"},
        {"slug": "person", "title": "Person", "type": "record-reference", "target_object": "people"},
    ):
        response = await stack.operator.post("/api/crm/objects/deals/attributes", json=attribute)
        assert response.status_code == 201, response.text


def _workflow(notify_url: str) -> dict[str, Any]:
    return {
        "name": "Invoice won deals",
        "trigger": {"block_id": "crm.record_updated",
                    "config": {"object": "deals", "attribute": "stage", "condition": "equals", "value": "Won"}},
        "steps": [
            {"key": "invoice", "block_id": "stripe.create_invoice", "config": {
                "object": "people", "record_id": "{{ trigger.values.person }}",
                "line_items": [{"description": "Deal: {{ trigger.values.name }}", "currency": "usd",
                                "unit_amount": "{{ trigger.values.amount }}", "quantity": 1}],
                "days_until_due": 30, "send_email": False}},
            {"block_id": "http.request", "config": {
                "url": notify_url, "headers": {"X-Source": "workflow"},
                "body": {"text": "Invoice {{ steps.invoice.number }} for {{ trigger.values.name }}: "
                                 "{{ steps.invoice.hosted_invoice_url }}",
                         "invoice_id": "{{ steps.0.invoice_id }}", "amount_due": "{{ steps.0.amount_due }}"}}},
        ],
    }


async def test_deal_won_creates_an_invoice_and_notifies(stack: Stack) -> None:
    receiver = Receiver()
    async with serving(receiver.app()) as target:
        await _deals_object(stack)
        person = await stack.operator.post("/api/crm/people", json={"name": "Dana Deal", "email": "dana@example.com"})
        assert person.status_code == 201, person.text
        deal = await stack.operator.post("/api/crm/objects/deals/records", json={"values": {
            "name": "Acme renewal", "stage": "Lead", "amount": 250000, "person": person.json()["id"]}})
        assert deal.status_code == 201, deal.text
        created = await stack.admin.post("/api/workflows", json=_workflow(f"{target}/notify"))
        assert created.status_code == 201, created.text
        workflow_id = created.json()["id"]

        # An unrelated change does not fire; the stage becoming Won does, once.
        for values in ({"amount": 250000, "name": "Acme renewal 2025"}, {"stage": "Won"}, {"name": "Acme renewal"}):
            patched = await stack.operator.patch(f"/api/crm/objects/deals/records/{deal.json()['id']}",
                                                 json={"values": values})
            assert patched.status_code == 200, patched.text

        async def finished() -> list[dict[str, Any]] | None:
            runs = (await stack.admin.get(f"/api/workflows/{workflow_id}/runs")).json()["data"]
            return runs if runs and runs[0]["status"] in ("succeeded", "failed") else None

        runs = await eventually(finished, timeout=15, what="the deal workflow run")

    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "succeeded", run
    assert run["trigger"]["value"] == "Won" and run["trigger"]["previous_value"] == "Lead"
    invoice_step, notify_step = run["steps"]
    assert invoice_step["block_id"] == "stripe.create_invoice" and invoice_step["status"] == "succeeded"
    assert invoice_step["inputs"]["record_id"] == person.json()["id"]
    assert invoice_step["inputs"]["line_items"][0]["unit_amount"] == 250000  # a whole template keeps its type
    invoice = invoice_step["outcome"]
    assert invoice["status"] == "open" and invoice["amount_due"] == 250000 and invoice["number"]
    assert notify_step["status"] == "succeeded" and notify_step["outcome"]["status_code"] == 200
    for step in run["steps"]:
        assert step["attempts"] == 1 and step["started_at"] and step["finished_at"] and len(step["attempt_log"]) == 1

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.headers["idempotency-key"] == f"{run['id']}.1"
    assert request.headers["x-source"] == "workflow"
    assert request.json() == {
        "text": f"Invoice {invoice['number']} for Acme renewal 2025: {invoice['hosted_invoice_url']}",
        "invoice_id": invoice["invoice_id"],
        "amount_due": 250000,
    }
    stripe_invoice = await stack.gateway.retrieve_invoice(invoice["invoice_id"])
    assert stripe_invoice["customer_email"] == "dana@example.com" and stripe_invoice["total"] == 250000

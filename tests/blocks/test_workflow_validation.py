"""`POST /api/workflows` refuses invalid workflows at save time, naming the step and the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.store.workspaces import CreatedWorkspace
from tests.conftest import bearer

VOID = {"block_id": "stripe.update_invoice_status", "config": {"invoice_id": "{{ trigger.invoice.id }}", "action": "void"}}


def workflow(*steps: dict[str, Any], trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": "W", "trigger": trigger or {"block_id": "stripe.invoice_payment_failed", "config": {}},
            "steps": list(steps)}


async def refused(client: httpx.AsyncClient, ws: CreatedWorkspace, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/workflows", json=body, headers=bearer(ws.admin_token))
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "validation_error"
    return error


async def test_a_valid_workflow_is_saved_listed_toggled_and_deleted(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    headers = bearer(workspace.admin_token)
    created = await client.post("/api/workflows", json=workflow(VOID), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["enabled"] is True and body["trigger"]["block_id"] == "stripe.invoice_payment_failed"
    assert body["steps"] == [VOID]
    listed = (await client.get("/api/workflows", headers=headers)).json()["data"]
    assert [w["id"] for w in listed] == [body["id"]]
    patched = await client.patch(f"/api/workflows/{body['id']}", json={"enabled": False}, headers=headers)
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert (await client.get(f"/api/workflows/{body['id']}/runs", headers=headers)).json() == {"data": []}
    assert (await client.delete(f"/api/workflows/{body['id']}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/workflows/{body['id']}", headers=headers)).status_code == 404
    assert (await client.delete(f"/api/workflows/{body['id']}", headers=headers)).status_code == 404


async def test_workflows_need_the_admin_role(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    response = await client.post("/api/workflows", json=workflow(VOID), headers=bearer(workspace.operator_token))
    assert response.status_code == 403


async def test_unknown_block(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    error = await refused(client, workspace, workflow(VOID, {"block_id": "stripe.refund", "config": {}}))
    assert "steps[1].block_id: unknown block 'stripe.refund'" in error["message"]
    assert "steps[1].block_id" in error["fields"]


async def test_a_trigger_used_as_a_step_and_a_step_as_trigger(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    error = await refused(client, workspace, workflow({"block_id": "stripe.invoice_paid"},
                                                       trigger={"block_id": "http.request"}))
    assert error["fields"]["trigger.block_id"] == "'http.request' is a step, not a trigger"
    assert error["fields"]["steps[0].block_id"] == "'stripe.invoice_paid' is a trigger, not a step"


async def test_bad_config_names_the_step_and_field(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    error = await refused(client, workspace, workflow(
        VOID,
        {"block_id": "stripe.update_invoice_status", "config": {"invoice_id": "in_123", "action": "refund"}},
        {"block_id": "http.request", "config": {"url": "ftp://x", "colour": "red"}},
    ))
    fields = error["fields"]
    assert "'finalize', 'send', 'pay', 'void' or 'mark_uncollectible'" in fields["steps[1].config.action"]
    assert fields["steps[2].config.url"] == "must be an http(s) URL"
    assert fields["steps[2].config.colour"] == "Extra inputs are not permitted"
    assert error["message"].startswith("Invalid workflow: steps[1] (stripe.update_invoice_status) config.action: Input should be")


async def test_reference_to_a_missing_output(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    error = await refused(client, workspace, workflow(
        VOID,
        {"block_id": "http.request", "config": {"url": "https://chat.example/hook", "body": {
            "text": "Voided {{ steps.0.invoice.numbr }}", "who": "{{ trigger.invoice.customer.email }}"}}},
    ))
    fields = error["fields"]
    numbr = fields["steps[1].config.body.text"]
    assert "steps[0] (stripe.update_invoice_status) does not have" in numbr and "'numbr' is not a field of invoice" in numbr
    who = fields["steps[1].config.body.who"]
    assert "the trigger (stripe.invoice_payment_failed)" in who and "'customer' is not a field of invoice" in who


@pytest.mark.parametrize(("invoice_id", "expected"), [
    ("{{ steps.0.invoice_id }}", "this step can reference only the trigger"),
    ("{{ steps.later.invoice_id }}", "no earlier step has key 'later'"),
    ("{{ invoice.id }}", "must start with 'trigger.' or 'steps.'"),
    ("{{ trigger.invoice.id", "unbalanced braces"),
])
async def test_bad_references(client: httpx.AsyncClient, workspace: CreatedWorkspace, invoice_id: str, expected: str) -> None:
    step = {"block_id": "stripe.update_invoice_status", "config": {"invoice_id": invoice_id, "action": "void"}}
    error = await refused(client, workspace, workflow(step, {**VOID, "key": "later"}))
    assert expected in error["fields"]["steps[0].config.invoice_id"]


async def test_templated_values_are_checked_after_rendering_not_at_save(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    step = {"block_id": "stripe.create_invoice", "config": {
        "object": "people", "record_id": "{{ trigger.values.person }}", "days_until_due": 14,
        "line_items": [{"description": "Deal", "currency": "usd", "unit_amount": "{{ trigger.values.amount }}"}]}}
    trigger = {"block_id": "crm.record_updated", "config": {"object": "deals", "attribute": "stage", "value": "Won"}}
    response = await client.post("/api/workflows", json=workflow(step, trigger=trigger), headers=bearer(workspace.admin_token))
    assert response.status_code == 201, response.text

    step["config"] = {**step["config"], "due_date": "2020-01-01"}  # type: ignore[dict-item]
    error = await refused(client, workspace, workflow(step, trigger={**trigger, "config": {"object": "deals", "attribute": "stage"}}))
    assert error["fields"]["trigger.config"] == "condition 'equals' needs a value"
    assert "in the past" in error["fields"]["steps[0].config.due_date"]


async def test_trigger_config_cannot_use_templates_or_unknown_fields(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    error = await refused(client, workspace, workflow(VOID, trigger={"block_id": "stripe.invoice_paid", "config": {"x": "{{ trigger.a }}"}}))
    assert error["fields"]["trigger.config.x"] == "Extra inputs are not permitted"


async def test_malformed_body(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    response = await client.post("/api/workflows", json={"name": "W", "trigger": {"block_id": "stripe.invoice_paid"}, "steps": []},
                                  headers=bearer(workspace.admin_token))
    assert response.status_code == 422 and "steps" in response.json()["error"]["fields"]

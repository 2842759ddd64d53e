"""`/settings` over HTTP: who may see it, what it shows for a restricted key (and never the key),
the reconnect action, workflows with their runs, and the pure view helpers."""

from __future__ import annotations

import httpx

from app.connection.service import connect
from app.context import AppContext
from app.sandbox.server import RunningEmulator
from app.store.workspaces import CreatedWorkspace
from app.web.pages.settings_view import backfill_view, recommended_permissions, schema_view, when
from tests.conftest import bearer
from tests.web.support import page_csrf, sign_in

NO_INVOICE_WRITE = {"customers": "write", "products": "read", "prices": "read", "invoices": "read",
                    "invoiceitems": "read", "webhook_endpoints": "write", "events": "read"}


async def test_without_a_session_settings_redirects_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/settings")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fsettings"
    login = await client.get(response.headers["location"])
    assert login.status_code == 200 and 'name="next" value="/settings"' in login.text


async def test_an_operator_gets_a_403_page(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    by_token = await client.get("/settings", headers=bearer(workspace.operator_token))
    assert by_token.status_code == 403 and by_token.headers["content-type"].startswith("text/html")

    await sign_in(client, workspace.operator_token, "/crm")
    page = await client.get("/settings")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "Settings are for workspace admins" in page.text and "operator token" in page.text
    assert 'href="/login?next=%2Fsettings"' in page.text
    assert "Traceback" not in page.text and 'href="/settings"' not in page.text  # no admin nav either
    refused = await client.get("/api/health")
    assert refused.status_code == 403


async def test_a_restricted_key_shows_the_banner_and_never_the_key(
    sclient: httpx.AsyncClient, sctx: AppContext, sworkspace: CreatedWorkspace, emulator: RunningEmulator,
) -> None:
    account_id, _ = emulator.new_account()
    key = emulator.state.create_restricted_key(account_id, NO_INVOICE_WRITE)
    await connect(sctx, sworkspace.workspace_id, key, "sandbox")

    await sign_in(sclient, sworkspace.admin_token, "/settings")
    page = await sclient.get("/settings")
    assert page.status_code == 200
    assert 'id="permissions-banner"' in page.text and "lacks 1 permission" in page.text
    assert "<strong class=\"scope\">Invoices: write</strong>" in page.text
    assert "Invoices cannot be created, finalized, sent, paid or voided." in page.text
    assert key not in page.text and key[-4:] in page.text  # masked: prefix and last four only
    assert 'type="password"' in page.text and "Connected" in page.text and account_id in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_reconnect_registers_the_webhook_again(
    sclient: httpx.AsyncClient, sctx: AppContext, sworkspace: CreatedWorkspace, emulator: RunningEmulator,
) -> None:
    await sign_in(sclient, sworkspace.admin_token, "/settings")
    csrf = {"X-CSRF-Token": await page_csrf(sclient)}
    not_connected = await sclient.post("/settings/reconnect", headers=csrf)
    assert not_connected.status_code == 409 and "not connected" in not_connected.json()["error"]["message"]

    account_id, key = emulator.new_account()
    await connect(sctx, sworkspace.workspace_id, key, "sandbox")
    first = emulator.state.summary(account_id)["webhook_endpoints"]
    again = await sclient.post("/settings/reconnect", headers=csrf)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["missing_permissions"] == [] and body["webhook"]["registered"] is True
    assert key not in again.text
    now = emulator.state.summary(account_id)["webhook_endpoints"]
    assert len(now) == 1 and now[0]["id"] != first[0]["id"]  # replaced, never duplicated


async def test_workflows_are_listed_with_their_runs(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    spec = {"name": "Void on failed payment", "trigger": {"block_id": "stripe.invoice_payment_failed", "config": {}},
            "steps": [{"block_id": "stripe.update_invoice_status",
                       "config": {"invoice_id": "{{ trigger.invoice.id }}", "action": "void"}}]}
    created = await client.post("/api/workflows", json=spec, headers=bearer(workspace.admin_token))
    assert created.status_code == 201, created.text
    page = await client.get("/settings", headers=bearer(workspace.admin_token))
    assert "Void on failed payment" in page.text and "Not run yet" in page.text


def test_view_helpers() -> None:
    assert when("2025-03-01T09:30:12+00:00") == "2025-03-01 09:30 UTC" and when(None) is None
    invoices = next(r for r in recommended_permissions() if r["resource"] == "Invoices")
    assert invoices["level"] == "write" and "cannot be created" in invoices["why"]
    assert [r["resource"] for r in recommended_permissions()] == [
        "Customers", "Products", "Prices", "Invoices", "Invoice items", "Webhook endpoints", "Events"]
    assert schema_view({"ok": True, "skipped": "sync is off"})["state"] == "skipped"
    problem = schema_view({"ok": False, "object_slug": "stripe_invoices", "object_status": "present", "attributes": [
        {"field": "number", "slug": "number", "status": "conflict", "expected_type": "text", "actual_type": "number"},
        {"field": "status", "slug": "status", "status": "present", "expected_type": "select"},
    ]})
    assert problem["state"] == "problem" and problem["counts"]["conflict"] == 1
    assert [a["field"] for a in problem["problems"]] == ["number"]
    running = backfill_view({"id": "job_1", "status": "running", "counts": {"seen": 100}})
    done = backfill_view({"id": "job_1", "status": "succeeded", "counts": {"seen": 300}})
    assert running and running["active"] and running["percent"] is None
    assert done and not done["active"] and done["percent"] == 100 and backfill_view(None) is None

"""PUT/DELETE /api/connection against the emulator through stripe-python over loopback."""

from __future__ import annotations

from typing import Any

import httpx

from app.context import AppContext
from app.store.workspaces import CreatedWorkspace
from tests.conftest import bearer

ALL_WRITE = {"customers": "write", "products": "read", "prices": "read", "invoices": "write",
             "invoiceitems": "read", "webhook_endpoints": "write", "events": "read"}


async def test_secret_key_connects_with_no_missing_permissions(
    sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace, emulator: Any
) -> None:
    account_id, key = emulator.new_account()
    r = await sclient.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"},
                          headers=bearer(sworkspace.admin_token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["connected"] is True and body["account"] == account_id
    assert body["missing_permissions"] == []
    assert body["key"] == f"sk_test_…{key[-4:]}"
    assert key not in r.text
    # sync is on by default: exactly one webhook endpoint, pointing at us
    endpoints = emulator.state.summary(account_id)["webhook_endpoints"]
    assert len(endpoints) == 1 and endpoints[0]["url"].endswith(f"/webhooks/stripe/{sworkspace.workspace_id}")


async def test_probe_names_each_missing_permission_and_creates_nothing(
    sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace, emulator: Any
) -> None:
    account_id, _ = emulator.new_account()
    perms = dict(ALL_WRITE, invoices="read", events="none")
    key = emulator.state.create_restricted_key(account_id, perms)
    emulator.state.clear_requests(account_id)
    r = await sclient.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"},
                          headers=bearer(sworkspace.admin_token))
    assert r.status_code == 200, r.text
    assert r.json()["missing_permissions"] == ["Invoices: write", "Events: read"]
    assert r.json()["key"] == f"rk_test_…{key[-4:]}"
    summary = emulator.state.summary(account_id)
    assert summary["customers"]["count"] == 0 and summary["invoices"]["count"] == 0
    # the only objects created are the webhook endpoint (sync on), never by the probe
    writes = [e for e in emulator.state.requests(account_id) if e.method == "POST" and e.status < 400]
    assert [w.path for w in writes] == ["/v1/webhook_endpoints"]


async def test_reconnect_replaces_the_webhook_and_disconnect_removes_it(
    sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace, emulator: Any
) -> None:
    account_id, key = emulator.new_account()
    headers = bearer(sworkspace.admin_token)
    for _ in range(3):
        r = await sclient.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"}, headers=headers)
        assert r.status_code == 200
    assert len(emulator.state.summary(account_id)["webhook_endpoints"]) == 1
    r = await sclient.delete("/api/connection", headers=headers)
    assert r.status_code == 200
    assert emulator.state.summary(account_id)["webhook_endpoints"] == []
    r = await sclient.delete("/api/connection", headers=headers)
    assert r.status_code == 409 and "not connected" in r.json()["error"]["message"]


async def test_webhook_already_gone_in_stripe_counts_as_removed(
    sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace, emulator: Any, sctx: AppContext
) -> None:
    account_id, key = emulator.new_account()
    headers = bearer(sworkspace.admin_token)
    await sclient.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"}, headers=headers)
    endpoint_id = emulator.state.summary(account_id)["webhook_endpoints"][0]["id"]
    gw = sctx.stripe.for_key(key)
    assert await gw.delete_webhook_endpoint(endpoint_id) is True
    r = await sclient.delete("/api/connection", headers=headers)
    assert r.status_code == 200


async def test_wrong_key_kinds_are_clear_422s(sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace) -> None:
    headers = bearer(sworkspace.admin_token)
    cases = [
        ({"stripe_api_key": "sk_live_abcdefghijklmnop", "mode": "sandbox"}, "sk_test_"),
        ({"stripe_api_key": "rk_test_abcdefghijklmnop", "mode": "production"}, "sk_live_"),
        ({"stripe_api_key": "pk_test_abcdefghijklmnop", "mode": "sandbox"}, "publishable"),
        ({"stripe_api_key": "sk_test_abc$%^&*()defgh", "mode": "sandbox"}, "does not look like"),
        ({"stripe_api_key": "hello", "mode": "sandbox"}, "sk_test_"),
        ({"stripe_api_key": "sk_test_abcdefghijkl", "mode": "staging"}, "mode"),
        ({"mode": "sandbox"}, "stripe_api_key"),
    ]
    for body, needle in cases:
        r = await sclient.put("/api/connection", json=body, headers=headers)
        assert r.status_code == 422, (body, r.text)
        assert needle in r.json()["error"]["message"], (body, r.json())


async def test_revoked_or_unknown_key_is_a_clear_error(
    sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace, emulator: Any
) -> None:
    _, key = emulator.new_account()
    emulator.state.revoke_key(key)
    r = await sclient.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"},
                          headers=bearer(sworkspace.admin_token))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "stripe_key_invalid"
    assert "invalid or revoked" in r.json()["error"]["message"]
    assert key not in r.text


async def test_roles_and_tokens(sclient: httpx.AsyncClient, sworkspace: CreatedWorkspace) -> None:
    body = {"stripe_api_key": "sk_test_abcdefghijklmnop", "mode": "sandbox"}
    r = await sclient.put("/api/connection", json=body, headers=bearer(sworkspace.operator_token))
    assert r.status_code == 403 and "admin" in r.json()["error"]["message"]
    r = await sclient.put("/api/connection", json=body, headers=bearer("inv_admin_nope"))
    assert r.status_code == 401
    r = await sclient.put("/api/connection", json=body)
    assert r.status_code == 401
    r = await sclient.put("/api/connection", content=b"{not json", headers=bearer(sworkspace.admin_token))
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = await sclient.get("/api/health", headers=bearer(sworkspace.operator_token))
    assert r.status_code == 403

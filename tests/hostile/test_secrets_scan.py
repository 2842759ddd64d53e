"""No secret in plain text anywhere: drive the whole product (connect a real emulator key, webhook
registered, an invoice, a backfill, webhook deliveries, workflows and blocks, the pages through a
page session, the error paths that see a key) while recording every response and every log line,
then look for the Stripe keys, the webhook secret and the API tokens in

- every response body and header (and inside the signed session cookie),
- every page's HTML,
- all log output (the app's JsonFormatter on the root logger, at DEBUG) and the process's stderr,
- the raw bytes of the SQLite database file and its -wal and -shm files;

and find the masked key (`sk_test_…abcd`) where it is meant to be shown. Closes issue 2's
"a test proves the Stripe key is absent ... and present masked where it is shown".
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape

from app.config import Settings
from app.context import AppContext
from app.http.app import build_app
from app.logs import JsonFormatter
from app.secrets_box import mask_key
from app.store.workspaces import create_workspace
from tests.hostile.support import bearer, sign, stored_events, webhook_secret
from tests.web.support import page_csrf, sign_in

RESTRICTED = {"customers": "write", "products": "read", "prices": "read", "invoices": "write",
              "invoiceitems": "write", "webhook_endpoints": "write", "events": "read"}


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_", "inv_admin_", "inv_operator_")


def _forms(secret: str) -> list[bytes]:
    """The secret as it could hide: whole, without its well-known prefix (so a redaction that
    only caught the prefix, or a log of the bare random part, is still found), base64 (cookies)."""
    raw = secret.encode()
    bare = next((secret[len(p):] for p in _PREFIXES if secret.startswith(p)), secret).encode()
    assert len(bare) >= 16, "too short to search for safely"
    return [raw, bare, base64.b64encode(raw).rstrip(b"="), base64.urlsafe_b64encode(raw).rstrip(b"=")]


def _session_payloads(response: httpx.Response) -> list[bytes]:
    """The JSON inside Starlette's signed session cookies (base64 before the first '.')."""
    found = []
    for header in response.headers.get_list("set-cookie"):
        value = header.split("=", 1)[1].split(";", 1)[0]
        payload = value.split(".", 1)[0]
        try:
            found.append(base64.b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            continue
    return found


async def test_no_secret_in_responses_pages_logs_or_database(
    sctx: AppContext, stripe_settings: Settings, emulator: Any, recorder: Recorder, capfd: pytest.CaptureFixture[str],
) -> None:
    ctx = sctx
    ws = await create_workspace(ctx.store, "Secretive")
    other = await create_workspace(ctx.store, "Restricted")
    _, key = emulator.new_account()
    other_account, _ = emulator.new_account()
    restricted = emulator.state.create_restricted_key(other_account, RESTRICTED)
    live_key = "sk_live_" + "L1ve" * 8  # the wrong kind for sandbox mode: refused, never echoed
    bogus_key = "sk_test_" + "B0gus" * 8  # well-formed but unknown to Stripe: refused, never echoed
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        responses.append(response)

    app = build_app(ctx, manage_context=False)
    transport = httpx.ASGITransport(app=app)
    admin, operator = bearer(ws.admin_token), bearer(ws.operator_token)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 event_hooks={"response": [keep]}) as c:
        # -- connection, including the refusals that see a key
        assert (await c.put("/api/connection", json={"stripe_api_key": live_key, "mode": "sandbox"},
                            headers=admin)).status_code == 422
        assert (await c.put("/api/connection", json={"stripe_api_key": bogus_key, "mode": "sandbox"},
                            headers=admin)).status_code == 422
        assert (await c.put("/api/connection", json={"stripe_api_key": key, "mode": "production"},
                            headers=admin)).status_code == 422
        connected = await c.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"}, headers=admin)
        assert connected.status_code == 200, connected.text
        assert connected.json()["key"] == mask_key(key) and connected.json()["webhook"]["registered"] is True
        other_connected = await c.put("/api/connection", json={"stripe_api_key": restricted, "mode": "sandbox"},
                                      headers=bearer(other.admin_token))
        assert other_connected.status_code == 200 and other_connected.json()["key"] == mask_key(restricted)
        health = await c.get("/api/health", headers=admin)
        assert health.json()["connection"]["key"] == mask_key(key)
        whsec = await webhook_secret(ctx, ws.workspace_id)
        assert whsec.startswith("whsec_")

        # -- CRM, an invoice, a backfill
        company = (await c.post("/api/crm/companies", json={"name": "Secretive Co"}, headers=operator)).json()
        person = (await c.post("/api/crm/people", json={"name": "Sam Secret", "email": "sam@secret.example",
                                                        "company_id": company["id"], "main_contact": True},
                               headers=operator)).json()
        due = (date.today() + timedelta(days=14)).isoformat()
        invoice = await c.post("/api/actions/create-invoice", headers=operator, json={
            "object": "companies", "record_id": company["id"], "due_date": due, "send_email": True,
            "line_items": [{"description": "Audit", "unit_amount": 90000, "currency": "usd", "quantity": 2}]})
        assert invoice.status_code == 201, invoice.text
        job = (await c.post("/api/actions/sync-invoices", headers=operator)).json()["job_id"]
        for _ in range(100):
            state = (await c.get(f"/api/jobs/{job}", headers=operator)).json()
            if state["status"] not in ("queued", "running", "pending"):
                break
            await asyncio.sleep(0.05)
        assert state["status"] == "succeeded", state

        # -- webhook deliveries: a good one, one signed with a wrong secret, one replayed
        body = json.dumps({"id": "evt_secret_scan", "object": "event", "type": "invoice.paid",
                           "created": int(time.time()),
                           "data": {"object": {"id": invoice.json()["invoice_id"], "object": "invoice"}}}).encode()
        url = f"/webhooks/stripe/{ws.workspace_id}"
        assert (await c.post(url, content=body, headers={"Stripe-Signature": sign(body, whsec)})).status_code == 200
        assert (await c.post(url, content=body, headers={"Stripe-Signature": sign(body, whsec)})).status_code == 200
        assert (await c.post(url, content=body, headers={"Stripe-Signature": sign(body, "whsec_nope")})).status_code == 400
        assert await stored_events(ctx, ws.workspace_id) >= 1

        # -- workflows, blocks, settings
        await c.post("/api/workflows", headers=admin, json={
            "name": "Void", "trigger": {"block_id": "stripe.invoice_payment_failed", "config": {}},
            "steps": [{"block_id": "stripe.update_invoice_status",
                       "config": {"invoice_id": "{{ trigger.invoice.id }}", "action": "void"}}]})
        await c.get("/api/workflows", headers=admin)
        await c.post("/api/blocks/stripe.create_customer/execute", headers=operator,
                     json={"execution_id": "scan-1", "config": {"email": "blocks@secret.example"}})
        await c.post("/api/blocks/stripe.invoice_paid/activate", headers=operator,
                     json={"activation_id": "scan", "callback_url": "http://127.0.0.1:9/hook"})
        await c.get("/api/blocks", headers=operator)
        await c.get("/api/settings", headers=admin)
        await c.patch("/api/settings", headers=admin, json={"auto_create_people": True})
        await c.post("/api/schema/setup", headers=admin)
        await c.get("/manifest.json")
        await c.get("/openapi.json")
        await c.get("/metrics")
        await c.post("/api/launch-url", headers=operator, json={"next": "/crm"})
        # bad tokens: the answer must not echo them
        await c.get("/api/health", headers={"Authorization": f"Bearer {ws.admin_token}x"})
        await c.get("/api/health", headers=operator)

    # -- pages, through page sessions (admin, then operator)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 event_hooks={"response": [keep]}) as page:
        await sign_in(page, ws.admin_token, "/settings")
        settings_page = await page.get("/settings")
        assert settings_page.status_code == 200
        shown = str(escape(mask_key(key)))
        assert shown in settings_page.text or mask_key(key) in settings_page.text, "masked key not on the page"
        csrf = await page_csrf(page)
        assert (await page.post("/settings/reconnect", headers={"X-CSRF-Token": csrf})).status_code == 200
        await page.get("/crm")
        await page.get("/crm/people")
        await page.get(f"/crm/people/{person['id']}")
        await page.get(f"/crm/companies/{company['id']}")
        await page.get(f"/actions/create-invoice?object=people&record_id={person['id']}")
        await page.get("/api/health")
        await page.get("/logout")
        await page.post("/login", data={"token": ws.operator_token, "next": "/crm"})
        await page.get("/crm")
        await page.get("/settings")
        await page.get(f"/login?token={other.admin_token}x")  # a wrong token in the address bar

    await asyncio.sleep(0.3)  # let queued event processing and its logging finish
    err = capfd.readouterr()

    secrets = {"stripe key": key, "restricted key": restricted, "refused live key": live_key,
               "refused bogus key": bogus_key, "webhook secret": whsec, "admin token": ws.admin_token,
               "operator token": ws.operator_token, "other admin token": other.admin_token,
               "other operator token": other.operator_token}
    db = Path(stripe_settings.database_url.split("///", 1)[1])
    db_files = {p.name: p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()}
    assert db.name in db_files and len(db_files[db.name]) > 0
    logs = "\n".join(recorder.lines).encode()
    assert b"stripe connected" in logs and len(recorder.lines) > 20  # the recorder did see the flow

    places: dict[str, bytes] = {"logs": logs, "stderr": (err.err + err.out).encode(), **db_files}
    for i, r in enumerate(responses):
        where = f"response {i}: {r.request.method} {r.request.url.path} {r.status_code}"
        places[where + " body"] = r.content
        places[where + " headers"] = json.dumps(list(r.headers.multi_items())).encode()
        for payload in _session_payloads(r):
            places[where + " session cookie"] = payload
    leaks = [f"{name} in {place}" for name, secret in secrets.items() for place, data in places.items()
             if any(form in data for form in _forms(secret))]
    assert not leaks, "\n".join(leaks)
    assert len(responses) > 40
    masked = [r for r in responses if mask_key(key).encode() in r.content]
    assert {r.request.url.path for r in masked} >= {"/api/connection", "/api/health", "/settings/reconnect"}

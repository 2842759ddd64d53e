"""Helpers for the hostile-input tests: signing webhook bodies (any bytes), counting stored events,
and filling a workspace with one of everything that has an id."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from app.context import AppContext
from app.store.connections import get_connection
from app.store.sync_tables import stripe_events


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's `Stripe-Signature` for any bytes (Stripe signs `<t>.<body>` with HMAC-SHA256)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


async def webhook_secret(ctx: AppContext, workspace_id: str) -> str:
    row = await get_connection(ctx.store, workspace_id)
    assert row is not None and row.webhook_secret_ciphertext, "no webhook endpoint registered"
    return ctx.box.decrypt(row.webhook_secret_ciphertext)


async def stored_events(ctx: AppContext, workspace_id: str | None = None) -> int:
    query = select(func.count()).select_from(stripe_events)
    if workspace_id is not None:
        query = query.where(stripe_events.c.workspace_id == workspace_id)
    async with ctx.store.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


@dataclass
class Seeded:
    """A workspace with one of everything that has an id, and the words that only it contains."""

    workspace_id: str
    admin_token: str
    operator_token: str
    stripe_key: str
    account_id: str
    tag: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)


async def seed_workspace(client: httpx.AsyncClient, ctx: AppContext, emulator: Any, tag: str,
                         admin: str, operator: str, workspace_id: str) -> Seeded:
    """Connect a fresh emulator account, then create through the API: a company, a person in it, a
    custom object with a record, a workflow, a backfill job, a trigger activation, a block
    execution and an invoice. Every name carries `tag`, so a leak is easy to spot."""
    account_id, key = emulator.new_account()
    a, o = bearer(admin), bearer(operator)
    seeded = Seeded(workspace_id, admin, operator, key, account_id, tag)

    async def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
        assert response.status_code in (statuses or (200, 201)), (response.request.url, response.text)
        body: dict[str, Any] = response.json()
        return body

    await ok(await client.put("/api/connection", json={"stripe_api_key": key, "mode": "sandbox"}, headers=a))
    company = await ok(await client.post("/api/crm/companies", json={"name": f"{tag} Corp", "domain": f"{tag}.example"},
                                         headers=o))
    person = await ok(await client.post("/api/crm/people", json={
        "name": f"{tag} Person", "email": f"{tag}.person@{tag}.example", "company_id": company["id"],
        "main_contact": True}, headers=o))
    obj_slug = f"{tag.lower()}_things"
    await ok(await client.post("/api/crm/objects", json={"slug": obj_slug, "singular": f"{tag} thing",
                                                         "plural": f"{tag} things"}, headers=o))
    await ok(await client.post(f"/api/crm/objects/{obj_slug}/attributes",
                               json={"slug": "name", "title": "Name", "type": "text"}, headers=o))
    record = await ok(await client.post(f"/api/crm/objects/{obj_slug}/records",
                                        json={"values": {"name": f"{tag} record"}}, headers=o))
    workflow = await ok(await client.post("/api/workflows", json={
        "name": f"{tag} workflow", "trigger": {"block_id": "stripe.invoice_paid", "config": {}},
        "steps": [{"block_id": "stripe.create_customer",
                   "config": {"email": "{{ trigger.invoice.customer_email }}", "name": f"{tag} step"}}]},
        headers=a))
    activation_id = f"act_{tag.lower()}"
    await ok(await client.post("/api/blocks/stripe.invoice_paid/activate", json={
        "callback_url": f"http://127.0.0.1:9/{tag}", "activation_id": activation_id}, headers=o))
    execution_id = f"exec_{tag.lower()}"
    executed = await ok(await client.post("/api/blocks/stripe.create_customer/execute", json={
        "execution_id": execution_id, "config": {"email": f"{tag}.exec@{tag}.example", "name": f"{tag} Exec"}},
        headers=o))
    due = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86400))
    invoice = await ok(await client.post("/api/actions/create-invoice", json={
        "object": "people", "record_id": person["id"], "due_date": due, "send_email": False,
        "line_items": [{"description": f"{tag} consulting", "unit_amount": 4321, "currency": "usd", "quantity": 1}]},
        headers=o))
    job = await ok(await client.post("/api/actions/sync-invoices", headers=o), 202)
    seeded.ids = {
        "company": company["id"], "person": person["id"], "object": obj_slug, "record": record["id"],
        "workflow": workflow["id"], "activation": activation_id, "execution": execution_id,
        "job": job["job_id"], "invoice": invoice["invoice_id"], "customer": executed["outcome"]["customer_id"],
        "workspace": workspace_id,
    }
    seeded.markers = [f"{tag} Corp", f"{tag} Person", f"{tag}.example", f"{tag} record", f"{tag} workflow",
                      f"{tag} Exec", f"{tag} consulting", account_id, invoice["invoice_id"],
                      executed["outcome"]["customer_id"]]
    return seeded

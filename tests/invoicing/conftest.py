"""A workspace connected to its own emulator account, with a small catalog and CRM, and helpers to
count Stripe calls (from the emulator's request log) and what exists in Stripe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.clock import utcnow
from app.context import AppContext, build_context
from app.crm.local.adapter import LocalCRM
from app.http.app import build_app
from app.invoicing.models import today_utc
from app.jobs.inprocess import InProcessJobs
from app.sandbox.server import RunningEmulator
from app.secrets_box import mask_key
from app.store.connections import save_connection
from app.store.workspaces import CreatedWorkspace, create_workspace, update_settings
from schema_mapping.mapping import SchemaMapping
from schema_mapping.setup import ensure_schema
from tests.conftest import bearer, make_settings

ENDPOINT = "/api/actions/create-invoice"


@dataclass
class Seed:
    """Record and price ids of the seeded CRM and catalog."""

    company: str = ""
    main_contact: str = ""
    other_person: str = ""
    lone_person: str = ""
    empty_company: str = ""
    one_time_usd: str = ""
    one_time_eur: str = ""
    recurring_usd: str = ""
    archived_usd: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Billing:
    ctx: AppContext
    client: httpx.AsyncClient
    workspace: CreatedWorkspace
    account_id: str
    key: str
    emulator: RunningEmulator
    crm: LocalCRM
    seed: Seed

    @property
    def ws(self) -> str:
        return self.workspace.workspace_id

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.workspace.operator_token)

    def mark(self) -> int:
        return len(self.emulator.state.requests(self.account_id))

    def calls_since(self, mark: int) -> list[str]:
        """`METHOD path` of every Stripe API request since `mark`, in order."""
        return [f"{e.method} {e.path}" for e in self.emulator.state.requests(self.account_id)[mark:]]

    def stripe_objects(self) -> tuple[int, int]:
        """(customers, invoices) that exist in the account now."""
        summary = self.emulator.state.summary(self.account_id)
        return summary["customers"]["count"], summary["invoices"]["count"]

    def summary(self) -> dict[str, Any]:
        return self.emulator.state.summary(self.account_id)

    async def with_sync(self) -> None:
        """Sync on, with the CRM invoice object set up as connecting would do it."""
        report = await ensure_schema(self.crm, SchemaMapping.default())
        assert report.ok
        await update_settings(self.ctx.store, self.ws, sync_enabled=True)

    async def create(self, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.client.post(ENDPOINT, json=body, headers=self.headers, **kwargs)


def due(days: int = 30) -> str:
    return (today_utc() + timedelta(days=days)).isoformat()


def custom(description: str = "Consulting", unit_amount: Any = 12_000, currency: str = "usd",
           quantity: Any = 1) -> dict[str, Any]:
    """A custom line as JSON (amount and quantity untyped: tests also send wrong types)."""
    return {"description": description, "unit_amount": unit_amount, "currency": currency, "quantity": quantity}


async def _price(http: httpx.AsyncClient, key: str, name: str, amount: int, currency: str,
                 **extra: str) -> str:
    form = {"product_data[name]": name, "unit_amount": str(amount), "currency": currency, **extra}
    r = await http.post("/v1/prices", data=form, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    price_id: str = r.json()["id"]
    return price_id


async def seed_catalog(base_url: str, key: str, seed: Seed) -> None:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as http:
        seed.one_time_usd = await _price(http, key, "Onboarding workshop", 50_000, "usd")
        seed.one_time_eur = await _price(http, key, "Audit (EU)", 90_000, "eur")
        seed.recurring_usd = await _price(http, key, "Support plan", 9_900, "usd", **{"recurring[interval]": "month"})
        seed.archived_usd = await _price(http, key, "Old package", 1_000, "usd")
        r = await http.post(f"/v1/prices/{seed.archived_usd}", data={"active": "false"},
                            headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text


async def seed_crm(crm: LocalCRM, seed: Seed) -> None:
    company = await crm.create_company("Globex", "globex.test")
    seed.company = company.id
    seed.main_contact = (await crm.create_person("Hank Scorpio", "Hank@Globex.test", company.id, main_contact=True)).id
    seed.other_person = (await crm.create_person("Marge Simpson", "marge@globex.test", company.id)).id
    seed.lone_person = (await crm.create_person("Ada Lovelace", "ada@example.test")).id
    seed.empty_company = (await crm.create_company("Empty Co")).id


@pytest.fixture
async def billing(tmp_path: Path, emulator: RunningEmulator) -> AsyncIterator[Billing]:
    # No SDK retries and a high client-side rate: the tests count calls and must stay fast.
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url, stripe_rate_sandbox=2000.0,
                             stripe_max_network_retries=0)
    ctx = await build_context(settings, jobs=InProcessJobs(periodic=False))
    await ctx.jobs.start(ctx)
    try:
        workspace = await create_workspace(ctx.store, "Acme")
        account_id, key = emulator.new_account()
        # Saved directly, in send-only mode: the permission probe, webhook and schema setup of
        # `connect` are tested elsewhere and cost most of a second; CRM mirroring (a few SQLite
        # write transactions per invoice) is switched on by the tests about it (`with_sync`).
        await save_connection(ctx.store, workspace.workspace_id, mode="sandbox", key_ciphertext=ctx.box.encrypt(key),
                              key_masked=mask_key(key), account_id=account_id, livemode=False,
                              missing_permissions=[], connected_at=utcnow())
        await update_settings(ctx.store, workspace.workspace_id, sync_enabled=False)
        crm = LocalCRM(ctx.store, workspace.workspace_id)
        seed = Seed()
        await seed_catalog(emulator.base_url, key, seed)
        await seed_crm(crm, seed)
        app = build_app(ctx, manage_context=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield Billing(ctx, client, workspace, account_id, key, emulator, crm, seed)
    finally:
        await ctx.aclose()

"""`invoicing serve --demo` / `make run`: the service, the Stripe emulator and a seeded, connected
demo workspace in one process, with nothing to set up and no accounts anywhere.

The emulator keeps its data in memory, so the demo database is made afresh on every start (under
DATA_DIR/demo) to stay consistent with it."""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from app.config import Settings
from app.context import AppContext, build_context
from app.jobs.inprocess import InProcessJobs
from app.store.workspaces import create_workspace

DEMO_COMPANIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Globex Corporation", "globex.example", (("Hank Scorpio", "hank@globex.example"), ("Mindy Simmons", "mindy@globex.example"))),
    ("Initech", "initech.example", (("Bill Lumbergh", "bill@initech.example"), ("Peter Gibbons", "peter@initech.example"))),
    ("Umbrella Health", "umbrella.example", (("Alice Abernathy", "alice@umbrella.example"),)),
)
DEMO_PRODUCTS: tuple[tuple[str, int, str, str | None], ...] = (
    ("Implementation package", 250000, "usd", None),
    ("Training day", 120000, "usd", None),
    ("Support hours (10)", 90000, "usd", None),
    ("Platform subscription", 4900, "usd", "month"),
)


@dataclass(frozen=True)
class DemoWorkspace:
    workspace_id: str
    admin_token: str
    operator_token: str
    emulator_url: str


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def seed_demo(ctx: AppContext, secret_key: str) -> DemoWorkspace:
    from app.connection.service import connect

    created = await create_workspace(ctx.store, "Demo workspace")
    ws = created.workspace_id
    crm = ctx.crm(ws)
    for name, domain, people in DEMO_COMPANIES:
        company = await crm.create_company(name, domain)  # type: ignore[attr-defined]
        for i, (person, email) in enumerate(people):
            await crm.create_person(person, email, company.id, main_contact=(i == 0))  # type: ignore[call-arg]
    await crm.create_person("Jane Freelancer", "jane@freelance.example")

    gw = ctx.stripe.for_key(secret_key)
    for name, amount, currency, interval in DEMO_PRODUCTS:
        product = await gw.v1.products.create_async(params={"name": name})
        params: dict[str, Any] = {"product": product.id, "unit_amount": amount, "currency": currency}
        if interval:
            params["recurring"] = {"interval": interval}
        await gw.v1.prices.create_async(params=params)
    await connect(ctx, ws, secret_key, "sandbox")
    await _history(gw)
    return DemoWorkspace(ws, created.admin_token, created.operator_token, "")


async def _history(gw: Any) -> None:
    """A few invoices already in Stripe, so Sync Stripe Invoices has something to bring in."""
    due = int((datetime.now(UTC) + timedelta(days=30)).timestamp())
    for n, (email, amount, outcome) in enumerate((("hank@globex.example", 180000, "pay"),
                                                   ("bill@initech.example", 95000, "open"),
                                                   ("legacy@oldclient.example", 42000, "void"))):
        customer = await gw.v1.customers.create_async(params={"email": email, "name": email.split("@")[0].title()})
        invoice = await gw.v1.invoices.create_async(params={"customer": customer.id, "collection_method": "send_invoice",
                                                            "due_date": due, "currency": "usd"})
        await gw.v1.invoices.add_lines_async(invoice.id, params={"lines": [{"price_data": {
            "currency": "usd", "unit_amount": amount, "product_data": {"name": f"Past services #{n + 1}"}}, "quantity": 1}]})
        await gw.v1.invoices.finalize_invoice_async(invoice.id)
        if outcome == "pay":
            await gw.v1.invoices.pay_async(invoice.id, params={"paid_out_of_band": True})
        elif outcome == "void":
            await gw.v1.invoices.void_invoice_async(invoice.id)


def serve_demo(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.http.app import create_app
    from app.sandbox.server import running_emulator

    demo_dir = settings.data_dir / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    base = f"http://{host}:{port}"
    with running_emulator(_free_port(host), host=host) as emu:
        _, secret_key = emu.new_account()
        demo = settings.model_copy(update={
            "database_url": f"sqlite+aiosqlite:///{demo_dir}/invoicing.db",
            "data_dir": demo_dir, "stripe_api_base": emu.base_url, "public_url": base, "redis_url": None,
        })

        async def seed() -> DemoWorkspace:
            ctx = await build_context(demo, role="cli", jobs=InProcessJobs(periodic=False))
            try:
                return await seed_demo(ctx, secret_key)
            finally:
                await ctx.aclose()

        seeded = asyncio.run(seed())
        _print_banner(base, emu.base_url, seeded)
        uvicorn.run(create_app(demo), host=host, port=port, log_config=None, access_log=False, ws="none")


def _print_banner(base: str, emulator_url: str, demo: DemoWorkspace) -> None:
    lines = [
        "",
        "Stripe Invoicing for the CRM — demo",
        f"  Settings panel (admin): {base}/login?token={demo.admin_token}",
        f"  CRM (operator):         {base}/login?token={demo.operator_token}&next=/crm",
        f"  API:                    {base}/api  (Authorization: Bearer <token>)",
        f"  Stripe emulator:        {emulator_url}",
        f"  workspace_id:   {demo.workspace_id}",
        f"  admin_token:    {demo.admin_token}",
        f"  operator_token: {demo.operator_token}",
        "  Demo data is in memory and made afresh on every start. Ctrl-C stops.",
        "",
    ]
    click.echo("\n".join(lines))

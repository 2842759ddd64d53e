"""Create Invoice over loopback: Stripe API calls per invoice, and the action's latency.

    .venv/bin/python bench/create_invoice.py [--runs 200] [--lines 5] [--max-seconds 90]

Starts the Stripe emulator and the app (uvicorn on free ports, real HTTP through httpx), connects
a workspace (sync on, as by default), then prints:
  1. Stripe calls per invoice for 1, 5 and 50 lines, new and existing customer, catalog cache cold
     and warm, with and without emailing: counted from the emulator's request log.
  2. p50/p95 latency of POST /api/actions/create-invoice over `--runs` sequential invoices for an
     existing customer, with CRM sync on and in send-only mode.
The client-side Stripe rate limit is raised for the run (the emulator has none) and webhook
delivery is paused: the figures are the action's own cost, not Stripe's 25 requests/s sandbox
limit. The emulator runs in this process, so its work shares the CPU. Stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from app.config import load_settings
from app.connection.service import connect
from app.context import AppContext, build_context
from app.crm.local.adapter import LocalCRM
from app.http.app import build_app
from app.invoicing.catalog import catalog_cache
from app.jobs.inprocess import InProcessJobs
from app.sandbox.server import RunningEmulator, running_emulator, serving_in_loop
from app.store.workspaces import CreatedWorkspace, create_workspace, update_settings

LINE_COUNTS = (1, 5, 50)




class Bench:
    def __init__(self, ctx: AppContext, http: httpx.AsyncClient, emu: RunningEmulator, workspace: CreatedWorkspace,
                 account_id: str, price_id: str) -> None:
        self.ctx, self.http, self.emu, self.workspace = ctx, http, emu, workspace
        self.account_id, self.price_id = account_id, price_id
        self.crm = LocalCRM(ctx.store, workspace.workspace_id)
        self.people = 0
        self.due = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

    async def new_person(self) -> str:
        self.people += 1
        return (await self.crm.create_person(f"Customer {self.people}", f"bench-{self.people}@example.test")).id

    def body(self, person_id: str, lines: int, send_email: bool) -> dict[str, Any]:
        items: list[dict[str, Any]] = [{"price_id": self.price_id, "quantity": 1}]
        items += [{"description": f"Service {i}", "unit_amount": 1000 + i, "currency": "usd", "quantity": 1 + i % 3}
                  for i in range(lines - 1)]
        return {"object": "people", "record_id": person_id, "line_items": items, "due_date": self.due,
                "send_email": send_email}

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.http.post("/api/actions/create-invoice", json=body,
                                 headers={"Authorization": f"Bearer {self.workspace.operator_token}"})
        if r.status_code != 201:
            raise RuntimeError(f"create-invoice failed: {r.status_code} {r.text}")
        result: dict[str, Any] = r.json()
        return result

    async def calls(self, body: dict[str, Any], *, cold: bool) -> int:
        if cold:
            catalog_cache(self.ctx).invalidate()
        before = len(self.emu.state.requests(self.account_id))
        await self.post(body)
        return len(self.emu.state.requests(self.account_id)) - before

    async def call_table(self) -> list[tuple[int, dict[str, int]]]:
        rows = []
        for lines in LINE_COUNTS:
            row: dict[str, int] = {}
            row["new, cold"] = await self.calls(self.body(await self.new_person(), lines, False), cold=True)
            row["new, warm"] = await self.calls(self.body(await self.new_person(), lines, False), cold=False)
            existing = await self.new_person()
            await self.post(self.body(existing, lines, False))
            row["existing, warm"] = await self.calls(self.body(existing, lines, False), cold=False)
            row["existing, cold"] = await self.calls(self.body(existing, lines, False), cold=True)
            row["existing, warm, email"] = await self.calls(self.body(existing, lines, True), cold=False)
            row["new, cold, email"] = await self.calls(self.body(await self.new_person(), lines, True), cold=True)
            rows.append((lines, row))
        return rows

    async def latency(self, runs: int, lines: int, deadline: float) -> list[float]:
        person = await self.new_person()
        body = self.body(person, lines, False)
        await self.post(body)  # the customer exists and the catalog is warm from here on
        samples: list[float] = []
        for _ in range(runs):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            await self.post(body)
            samples.append((time.perf_counter() - start) * 1000)
        return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def print_calls(rows: list[tuple[int, dict[str, int]]], out: Callable[[str], None]) -> None:
    columns = list(rows[0][1])
    out("Stripe API calls per invoice (emulator request log)")
    out("  lines | " + " | ".join(f"{c:>21}" for c in columns))
    out("  ------+-" + "-+-".join("-" * 21 for _ in columns))
    for lines, row in rows:
        out(f"  {lines:>5} | " + " | ".join(f"{row[c]:>21}" for c in columns))
    out("  budget: existing <= 5 (lookup, draft, lines, finalize, +1 catalog read when cold); new <= 6; +1 to email")


async def run(args: argparse.Namespace) -> None:
    out: Callable[[str], None] = print
    deadline = time.monotonic() + args.max_seconds
    with tempfile.TemporaryDirectory() as tmp, running_emulator() as emu:
        settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", data_dir=Path(tmp),
                                 app_secret="bench-secret", public_url="http://127.0.0.1:9", redis_url=None,
                                 stripe_api_base=emu.base_url, stripe_rate_sandbox=10_000.0, log_level="WARNING")
        ctx = await build_context(settings, jobs=InProcessJobs(periodic=False))
        async with serving_in_loop(build_app(ctx)) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60,
                                                                          trust_env=False) as http:
            workspace = await create_workspace(ctx.store, "Bench")
            account_id, key = emu.new_account()
            await connect(ctx, workspace.workspace_id, key, "sandbox")
            # Webhook deliveries would compete with the action for this one process's CPU.
            emu.state.set_webhooks_paused(True)
            async with httpx.AsyncClient(base_url=emu.base_url, trust_env=False) as stripe_http:
                r = await stripe_http.post("/v1/prices", data={"product_data[name]": "Workshop", "unit_amount": "50000",
                                                               "currency": "usd"},
                                           headers={"Authorization": f"Bearer {key}"})
                price_id = r.json()["id"]
            bench = Bench(ctx, http, emu, workspace, account_id, price_id)
            print_calls(await bench.call_table(), out)
            out("")
            out(f"Latency of POST /api/actions/create-invoice, existing customer, {args.lines} lines, warm catalog,"
                " sequential")
            out("  mode                 |  runs |   p50 ms |   p95 ms |  mean ms")
            for mode, sync in (("sync on (CRM upsert)", True), ("send-only (sync off)", False)):
                await update_settings(ctx.store, workspace.workspace_id, sync_enabled=sync)
                samples = await bench.latency(args.runs, args.lines, deadline)
                if not samples:
                    out(f"  {mode:<20} | time budget used up")
                    continue
                out(f"  {mode:<20} | {len(samples):>5} | {percentile(samples, 0.5):>8.1f} | "
                    f"{percentile(samples, 0.95):>8.1f} | {statistics.fmean(samples):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="invoices per latency measurement (default 200)")
    parser.add_argument("--lines", type=int, default=5, help="lines per invoice in the latency runs (default 5)")
    parser.add_argument("--max-seconds", type=float, default=90.0, help="stop measuring latency after this long")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

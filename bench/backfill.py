"""Backfill from the Stripe emulator into the local CRM: invoices/s, pages, peak RSS.

    .venv/bin/python bench/backfill.py [--invoices 10000] [--customers 200] [--stripe-rate 10000]
                                       [--default-rate-invoices 10000] [--postgres] [--profile PATH]
                                       [--max-seconds 1800]

1. Starts the Stripe emulator in a child process (as `invoicing sandbox stripe` does), makes an
   account and `--invoices` finalized invoices in it over the emulator's admin API
   (`/_emulator/bulk_invoices`: paid/open/void mix, `--customers` customers, no events).
2. In this process: a store (SQLite in a temp dir, or with `--postgres` a database of its own on
   the local PostgreSQL, created and dropped here), a workspace connected to the account without a
   webhook, the invoice schema set up; then the real backfill (`app.sync.backfill.start_backfill`,
   then `run_backfill` awaited here, exactly what the in-process runner calls: pages of 100 through
   `invoices.list`, each page through the guarded upsert into the local CRM, cursor and counts
   committed per page).
3. Prints invoices/s, seconds, pages, CRM records and peak RSS of this process (the app side only:
   the emulator's memory is its own process's, printed separately).

The client-side Stripe rate limit (`stripe_rate_sandbox`, 25 requests/s by default, Stripe's sandbox
limit) is RAISED to `--stripe-rate` for the main pass, so the figure is the app's own speed. With
pages of 100, 25 requests/s caps any backfill at 2,500 invoices/s from Stripe alone. A second pass
at the default 25/s over `--default-rate-invoices` invoices (a fresh account and workspace; 0 skips
it) shows the figure a real sandbox key would see.

Loopback only; bounded by `--max-seconds` per pass; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ServerProcess,
    load_line,
    machine_line,
    peak_rss_mib,
    print_profile,
    proc_peak_rss_mib,
    server_process,
)

from app.clock import utcnow
from app.config import load_settings
from app.context import AppContext, build_context
from app.jobs.inprocess import InProcessJobs
from app.secrets_box import mask_key
from app.store.connections import save_connection
from app.store.workspaces import create_workspace
from app.sync.backfill import get_job, run_backfill, start_backfill
from schema_mapping.mapping import SchemaMapping
from schema_mapping.setup import ensure_schema

DEFAULT_STRIPE_RATE = 25.0  # app.config.Settings.stripe_rate_sandbox
PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


@dataclass
class Pass:
    label: str
    invoices: int
    stripe_rate: float
    seconds: float = 0.0
    status: str = ""
    pages: int = 0
    seen: int = 0
    created: int = 0
    unmatched: int = 0
    records: int = 0
    cpu_s: float = 0.0
    emulator_cpu_s: float = 0.0
    rss_before_mib: float = 0.0
    rss_peak_mib: float = 0.0
    timed_out: bool = False

    @property
    def rate(self) -> float:
        return self.seen / self.seconds if self.seconds > 0 else 0.0


async def _pg_admin(query: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(query)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def database(use_postgres: bool, tmp: str) -> AsyncIterator[str]:
    if not use_postgres:
        yield f"sqlite+aiosqlite:///{tmp}/bench.db"
        return
    name = f"bench_backfill_{secrets.token_hex(4)}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.format(name=name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def connect_without_webhook(ctx: AppContext, key: str, account_id: str, name: str) -> str:
    """A workspace holding `key`, schema ready, no webhook endpoint (as tests/sync/conftest.py does)."""
    ws = await create_workspace(ctx.store, name)
    await save_connection(ctx.store, ws.workspace_id, mode="sandbox", key_ciphertext=ctx.box.encrypt(key),
                          key_masked=mask_key(key), account_id=account_id, livemode=False,
                          missing_permissions=[], connected_at=utcnow())
    report = await ensure_schema(ctx.crm(ws.workspace_id), SchemaMapping.default())
    if not report.ok:
        raise RuntimeError(f"schema set-up failed: {report}")
    return ws.workspace_id


async def seed_account(emulator_url: str, invoices: int, customers: int) -> tuple[str, str, float]:
    """(account id, secret key, seconds) of a fresh emulator account holding `invoices` invoices."""
    async with httpx.AsyncClient(base_url=emulator_url, timeout=600, trust_env=False) as http:
        r = await http.post("/_emulator/accounts", json={})
        r.raise_for_status()
        account = r.json()
        start = time.perf_counter()
        r = await http.post("/_emulator/bulk_invoices", json={
            "account_id": account["account_id"], "count": invoices, "customers": min(customers, invoices)})
        r.raise_for_status()
        if r.json()["created"] != invoices:
            raise RuntimeError(f"emulator made {r.json()['created']} invoices, not {invoices}")
        return account["account_id"], account["secret_key"], time.perf_counter() - start


async def count_records(ctx: AppContext, workspace_id: str) -> int:
    _, total = await ctx.crm(workspace_id).list_records(SchemaMapping.default().object_slug, limit=1, offset=0)
    return int(total)


async def progress(ctx: AppContext, workspace_id: str, job_id: str, every_s: float) -> None:
    start = time.perf_counter()
    while True:
        await asyncio.sleep(every_s)
        job = await get_job(ctx, workspace_id, job_id)
        elapsed = time.perf_counter() - start
        print(f"  ... {elapsed:6.0f}s: {job['pages']} pages, {job['counts']['seen']} invoices, "
              f"{job['counts']['seen'] / elapsed:.0f}/s, RSS peak {peak_rss_mib():.0f} MiB", file=sys.stderr, flush=True)


async def run_pass(p: Pass, *, emulator: ServerProcess, database_url: str, data_dir: str, customers: int,
                   max_seconds: float, profile: str | None, progress_every_s: float) -> None:
    emulator_url = emulator.base_url
    account_id, key, seed_s = await seed_account(emulator_url, p.invoices, customers)
    print(f"[{p.label}] emulator account {account_id}: {p.invoices} invoices, {min(customers, p.invoices)} "
          f"customers, made in {seed_s:.1f}s; client-side Stripe rate limit {p.stripe_rate:g} requests/s"
          + (" (RAISED from the default 25/s for this bench)" if p.stripe_rate != DEFAULT_STRIPE_RATE
             else " (the default, Stripe's sandbox limit)"), flush=True)
    settings = load_settings(database_url=database_url, data_dir=Path(data_dir), app_secret="bench-backfill-secret",
                             public_url="http://127.0.0.1:9", redis_url=None, stripe_api_base=emulator_url,
                             stripe_rate_sandbox=p.stripe_rate, log_level="WARNING", log_format="text")
    # Not started: run_backfill is awaited below, as the in-process runner's worker would.
    ctx = await build_context(settings, role="cli", jobs=InProcessJobs(concurrency=1, periodic=False))
    try:
        workspace_id = await connect_without_webhook(ctx, key, account_id, f"Bench backfill {p.label}")
        started = await start_backfill(ctx, workspace_id)
        p.rss_before_mib = peak_rss_mib()
        reporter = asyncio.create_task(progress(ctx, workspace_id, started.job_id, progress_every_s))
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0, cpu0, emu_cpu0 = time.perf_counter(), time.process_time(), emulator.cpu_s()
        try:
            async with asyncio.timeout(max_seconds):
                await run_backfill(ctx, started.job_id)
        except TimeoutError:
            p.timed_out = True
        p.seconds = time.perf_counter() - t0
        p.cpu_s, p.emulator_cpu_s = time.process_time() - cpu0, emulator.cpu_s() - emu_cpu0
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        p.rss_peak_mib = peak_rss_mib()
        job = await get_job(ctx, workspace_id, started.job_id)
        p.status, p.pages = job["status"], job["pages"]
        p.seen, p.created, p.unmatched = job["counts"]["seen"], job["counts"]["created"], job["counts"]["unmatched"]
        p.records = await count_records(ctx, workspace_id)
    finally:
        await ctx.aclose()


def print_table(passes: list[Pass]) -> None:
    print()
    print("  pass                         | rate limit | invoices | status    |  seconds | invoices/s | pages | "
          "CRM records | unmatched | app CPU s | emu CPU s | RSS before | RSS peak")
    print("  " + "-+-".join("-" * w for w in (28, 10, 8, 9, 8, 10, 5, 11, 9, 9, 9, 10, 8)))
    for p in passes:
        status = p.status + (" (cut)" if p.timed_out else "")
        print(f"  {p.label:<28} | {p.stripe_rate:>8g}/s | {p.invoices:>8} | {status:<9} | {p.seconds:>8.1f} | "
              f"{p.rate:>10.0f} | {p.pages:>5} | {p.records:>11} | {p.unmatched:>9} | {p.cpu_s:>9.1f} | "
              f"{p.emulator_cpu_s:>9.1f} | "
              f"{p.rss_before_mib:>6.0f} MiB | {p.rss_peak_mib:>4.0f} MiB")


async def run(args: argparse.Namespace) -> int:
    print(f"machine: {machine_line()}")
    store_name = "PostgreSQL 127.0.0.1:5432 (own database, dropped after)" if args.postgres else "SQLite (temp dir)"
    print(f"store: {store_name}; CRM: local; emulator: separate process; backfill: this process, asyncio "
          f"(as `invoicing backfill` runs it)")
    print(f"NOTE: client-side Stripe rate limit raised to {args.stripe_rate:g}/s for the main pass "
          f"(default {DEFAULT_STRIPE_RATE:g}/s = Stripe's sandbox limit; pages of 100 => at most 2,500 invoices/s "
          "from Stripe alone)")
    passes = [Pass(f"main ({'postgres' if args.postgres else 'sqlite'})", args.invoices, args.stripe_rate)]
    if args.default_rate_invoices > 0:
        passes.append(Pass(f"default rate ({'postgres' if args.postgres else 'sqlite'})",
                           args.default_rate_invoices, DEFAULT_STRIPE_RATE))
    emulator_rss: float | None = None
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp, server_process("emulator") as emu:
        async with database(args.postgres, tmp) as database_url:
            for i, p in enumerate(passes):
                await run_pass(p, emulator=emu, database_url=database_url, data_dir=tmp,
                               customers=args.customers, max_seconds=args.max_seconds,
                               profile=args.profile if i == 0 else None, progress_every_s=args.progress_every)
        emulator_rss = proc_peak_rss_mib(emu.pid)
    print_table(passes)
    print()
    print("RSS = this process's ru_maxrss (peak since start, so a later pass shows at least the earlier peak); "
          "the emulator runs in its own process"
          + (f" (its peak: {emulator_rss:.0f} MiB, not included)" if emulator_rss is not None else "") + ".")
    print(f"load average after the run: {load_line()}")
    ok = all(p.status == "succeeded" and p.records == p.invoices and p.seen == p.invoices for p in passes)
    if not ok:
        print("WARNING: a pass did not bring every invoice exactly once (see status / CRM records)")
    if args.profile:
        print()
        print(f"cProfile of the main pass (this process's event-loop thread; aiosqlite's threads are not seen): "
              f"{args.profile}")
        print_profile(args.profile, args.profile_top)
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=10_000, help="invoices in the main pass (default 10000)")
    parser.add_argument("--customers", type=int, default=200, help="distinct customers (default 200)")
    parser.add_argument("--stripe-rate", type=float, default=10_000.0,
                        help="client-side Stripe requests/s for the main pass (default 10000: raised, see above)")
    parser.add_argument("--default-rate-invoices", type=int, default=10_000,
                        help="invoices in a second pass at the default 25/s (default 10000; 0 skips it)")
    parser.add_argument("--postgres", action="store_true", help="run the store on the local PostgreSQL")
    parser.add_argument("--profile", metavar="PATH", help="cProfile the main pass, dump to PATH, print hotspots")
    parser.add_argument("--profile-top", type=int, default=25, help="functions shown per profile table (default 25)")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop a pass after this long (default 1800)")
    parser.add_argument("--progress-every", type=float, default=15.0, help="progress line every N s on stderr")
    args = parser.parse_args()
    if args.invoices < 1 or args.customers < 1 or args.stripe_rate <= 0 or args.default_rate_invoices < 0:
        parser.error("--invoices, --customers and --stripe-rate must be positive")
    logging.basicConfig(level=logging.WARNING)
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

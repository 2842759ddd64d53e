"""Scale-out run: two `invoicing serve` and two `invoicing worker` processes on Postgres + Redis,
a bounded loopback storm of signed webhook events while a backfill runs, then a correctness audit.

    .venv/bin/python bench/scale_out.py [--invoices 1000] [--events 800] [--concurrency 16]
                                        [--timeout 240] [--seed N] [--keep-logs]

What it does (every process is a child in its own process group, killed in `finally`):
1. Creates a database `invoicing_scale_<hex>` on the local PostgreSQL (dropped at the end) and
   uses Redis DB 14 with a key prefix of its own (only keys containing it are deleted at the end).
2. Starts the Stripe emulator (`invoicing sandbox stripe`), two servers (`invoicing serve`) and
   two workers (`invoicing worker`), all on that database and Redis, plus a tiny HTTP receiver in
   this process for the workflow step.
3. Creates a workspace (`invoicing workspace create --json`), connects an emulator account's
   secret key (`PUT /api/connection`, which registers the webhook endpoint; its URL is server A
   because PUBLIC_URL names it, as a load balancer's address would) and creates a workflow
   `stripe.invoice_paid` -> `http.request` to the receiver.
4. Stripe history: `--invoices` finalized invoices made by the emulator's bulk admin call (no
   events: only the backfill can find them), plus ~`--events`/4 "live" invoices driven through the
   emulator's REST API with the secret key (create, add lines, finalize), each emitting real events.
5. Starts the backfill (`POST /api/actions/sync-invoices`) and, while it runs, moves the live
   invoices on (pay 60 %, void 20 %, mark uncollectible 10 % of which half are then paid, 10 % stay
   open) and storms the servers with every invoice event, each delivered 1-3 times, in random order,
   each copy to a random server.
   The storm plays Stripe: the events are the emulator's own (`GET /v1/events`), and each copy is
   signed at send time with the endpoint's secret, which this process decrypts from the
   `connections` table with `app.secrets_box.SecretBox(APP_SECRET)` (the API never exposes it).
   The emulator's own deliveries are paused for the run, so every delivery is one we count.
   A 5xx or a refused connection is retried, as Stripe would; a 4xx is a failure.
6. Waits until the backfill is done, every stored event is processed and every workflow run is
   finished, then checks and prints:
   - every Stripe invoice (non-draft) exactly once in the CRM (`GET /api/crm/objects/.../records`),
   - each record's status, amount paid and amount remaining equal to Stripe's (`GET /v1/invoices`),
   - exactly one workflow run per (workflow, invoice.paid event), each succeeded (store, and
     `GET /api/workflows/{id}/runs` for the newest 200: the API's page limit), and the receiver saw
     one idempotency key per run,
   - zero failed and zero pending events (`GET /api/health`),
   and the figures: accepted deliveries/s, processing lag (stored -> processed) p50/p95, backfill
   invoices/s, wall time.

Exit status 0 when every check passes, 1 otherwise. `run_scale_out()` is also called by
`tests/reliability/test_scale_out_small.py` with a small size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx

HOST = "127.0.0.1"
PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL_BASE = os.environ.get("SCALE_PG_URL_BASE", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("SCALE_REDIS_URL", "redis://127.0.0.1:6379/14")
INVOICE_EVENT_PREFIX = "invoice."
# Settings the children read from the environment (app/config.py); never inherited from ours.
APP_ENV_VARS = {
    "DATABASE_URL", "REDIS_URL", "APP_SECRET", "PUBLIC_URL", "STRIPE_API_BASE", "CRM_BACKEND",
    "ATTIO_API_TOKEN", "ATTIO_API_BASE", "DATA_DIR", "LOG_LEVEL", "LOG_FORMAT", "RECONCILE_INTERVAL_S",
    "STRIPE_RATE_SANDBOX", "STRIPE_RATE_LIVE", "STRIPE_MAX_NETWORK_RETRIES", "MAX_BODY_BYTES", "JOB_LEASE_S",
    "PENDING_EVENT_GRACE_S", "SWEEP_INTERVAL_S", "EVENT_MAX_ATTEMPTS", "REDIS_KEY_PREFIX",
}


# -- small helpers ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def major(amount_minor: int, currency: str) -> int | float:
    from app.money import major_json

    return major_json(int(amount_minor), currency)


class Processes:
    """Child processes, each in its own session (process group), logging to a file each."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args], env=env, cwd=str(ROOT),
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_python(self, name: str, code: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """A child running `python -c code` (e.g. a worker with a module constant changed)."""
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as out:
            proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=str(ROOT),
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def send(self, name: str, sig: int) -> None:
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout_s: float = 10.0) -> None:
        """Signal the child's process group and reap it (SIGKILL if it outlives `timeout_s`)."""
        proc = self.procs.get(name)
        if proc is None:
            return
        self.send(name, sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.send(name, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self, grace_s: float = 6.0) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                self.send(name, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for name, proc in self.procs.items():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            self.send(name, signal.SIGKILL)  # stragglers, and anything the child left in its group
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def service_env(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in APP_ENV_VARS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(base)
    return env


async def wait_http(url: str, *, timeout_s: float, procs: Processes | None = None, name: str | None = None,
                    ok: tuple[int, ...] = (200,)) -> None:
    deadline = time.monotonic() + timeout_s
    last: str = ""
    async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            if procs is not None and name is not None and procs.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited during start-up:\n{procs.tail(name)}")
            try:
                response = await client.get(url)
                if response.status_code in ok:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready within {timeout_s:.0f} s: {last}")


# -- Postgres and Redis of our own ----------------------------------------------------------------

async def create_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def delete_redis_keys(redis_url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i:i + 500])
        return len(keys)
    finally:
        client.close()


# -- the workflow step's receiver -----------------------------------------------------------------

@dataclass
class Receiver:
    """A tiny HTTP endpoint for `http.request`: records each call's Idempotency-Key and body.
    While `hold` is set, calls wait for it to clear (a step that is 'in flight')."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        async def hook(request: Request) -> Response:
            body = await request.json()
            key = request.headers.get("idempotency-key", "")
            self.arrived.set()
            while self.hold.is_set():
                await asyncio.sleep(0.05)
            with self.lock:
                self.calls.append((key, body))
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(k for k, _ in self.calls)

    def event_ids(self) -> set[str]:
        with self.lock:
            return {str(b.get("event_id")) for _, b in self.calls}


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    from app.sandbox.server import running_server

    receiver = Receiver()
    with running_server(receiver.app()) as server:
        receiver.url = f"{server.base_url}/hook"
        yield receiver


# -- the emulator's REST API (as Stripe's, with the secret key) -----------------------------------

class StripeREST:
    def __init__(self, base_url: str, key: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False,
                                      headers={"Authorization": f"Bearer {key}"})

    async def post(self, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        for attempt in range(5):
            response = await self.http.post(path, data=data or {})
            if response.status_code in (429, 500) and attempt < 4:
                await asyncio.sleep(0.2 * 2 ** attempt)
                continue
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result
        raise AssertionError("unreachable")

    async def list_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every object of a list endpoint, newest first, as Stripe's JSON."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {"limit": 100, **(params or {})}
            if cursor:
                query["starting_after"] = cursor
            response = await self.http.get(path, params=query)
            response.raise_for_status()
            page = response.json()
            items.extend(page["data"])
            if not page.get("has_more") or not page["data"]:
                return items
            cursor = page["data"][-1]["id"]

    async def aclose(self) -> None:
        await self.http.aclose()


async def create_live_invoice(stripe: StripeREST, email: str, amount: int) -> str:
    customers = await stripe.http.get("/v1/customers", params={"email": email, "limit": 1})
    found = customers.json()["data"]
    customer = found[0] if found else await stripe.post("/v1/customers", {"email": email, "name": email.split("@")[0]})
    invoice = await stripe.post("/v1/invoices", {"customer": customer["id"], "collection_method": "send_invoice",
                                                  "days_until_due": 30, "currency": "usd"})
    await stripe.post(f"/v1/invoices/{invoice['id']}/add_lines", {
        "lines[0][price_data][currency]": "usd", "lines[0][price_data][unit_amount]": amount,
        "lines[0][price_data][product_data][name]": "Scale-out service", "lines[0][quantity]": 1})
    await stripe.post(f"/v1/invoices/{invoice['id']}/finalize", {"auto_advance": "false"})
    return str(invoice["id"])


async def advance_live_invoice(stripe: StripeREST, invoice_id: str, fate: str) -> None:
    if fate == "paid":
        await stripe.post(f"/v1/invoices/{invoice_id}/pay", {"paid_out_of_band": "true"})
    elif fate == "void":
        await stripe.post(f"/v1/invoices/{invoice_id}/void")
    elif fate in ("uncollectible", "uncollectible_then_paid"):
        await stripe.post(f"/v1/invoices/{invoice_id}/mark_uncollectible")
        if fate == "uncollectible_then_paid":
            await stripe.post(f"/v1/invoices/{invoice_id}/pay", {"paid_out_of_band": "true"})


def fates(count: int, rng: random.Random) -> list[str]:
    plan = (["paid"] * 60 + ["void"] * 20 + ["uncollectible"] * 5 + ["uncollectible_then_paid"] * 5 + ["open"] * 10)
    chosen = [plan[i * len(plan) // max(1, count) % len(plan)] for i in range(count)]
    rng.shuffle(chosen)
    return chosen


async def bounded(limit: int, coros: list[Any]) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with sem:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


# -- the storm --------------------------------------------------------------------------------------

@dataclass
class StormStats:
    deliveries: int = 0
    accepted: int = 0
    duplicates: int = 0
    retried: int = 0
    retry_reasons: Counter[str] = field(default_factory=Counter)
    refused_4xx: list[str] = field(default_factory=list)
    first_ack: dict[str, float] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0


class Storm:
    """Deliveries (event, server) drawn at random from a pool that grows while it runs."""

    def __init__(self, servers: list[str], workspace_id: str, secret: str, rng: random.Random,
                 concurrency: int) -> None:
        self.servers = servers
        self.workspace_id = workspace_id
        self.secret = secret
        self.rng = rng
        self.concurrency = concurrency
        self.pool: list[tuple[dict[str, Any], str]] = []
        self.seen: set[str] = set()
        self.producers_done = asyncio.Event()
        self.stats = StormStats()

    def add(self, events: list[dict[str, Any]]) -> int:
        """Queue 1-3 copies of each event not queued before; returns how many were new."""
        fresh = [e for e in events if e["id"] not in self.seen]
        for event in fresh:
            self.seen.add(event["id"])
            for _ in range(self.rng.randint(1, 3)):
                self.pool.append((event, self.rng.choice(self.servers)))
        return len(fresh)

    def _take(self) -> tuple[dict[str, Any], str] | None:
        if not self.pool:
            return None
        i = self.rng.randrange(len(self.pool))
        self.pool[i], self.pool[-1] = self.pool[-1], self.pool[i]
        return self.pool.pop()

    async def run(self) -> StormStats:
        from app.stripe.webhooks import sign_payload

        self.stats.started = time.monotonic()
        limits = httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency * 2)
        async with httpx.AsyncClient(timeout=30, trust_env=False, limits=limits) as client:

            async def deliver(event: dict[str, Any], server: str) -> None:
                payload = json.dumps(event, separators=(",", ":")).encode()
                url = f"{server}/webhooks/stripe/{self.workspace_id}"
                for attempt in range(20):
                    headers = {"Stripe-Signature": sign_payload(payload, self.secret, int(time.time())),
                               "Content-Type": "application/json", "User-Agent": "Stripe/1.0 (scale-out bench)"}
                    try:
                        response = await client.post(url, content=payload, headers=headers)
                    except httpx.HTTPError as exc:
                        status = 0
                        self.stats.retry_reasons[type(exc).__name__] += 1
                    else:
                        status = response.status_code
                    if 200 <= status < 300:
                        self.stats.accepted += 1
                        if response.json().get("duplicate"):
                            self.stats.duplicates += 1
                        self.stats.first_ack.setdefault(event["id"], time.time())
                        return
                    if 400 <= status < 500:
                        self.stats.refused_4xx.append(f"{event['id']}: {status} {response.text[:200]}")
                        return
                    self.stats.retried += 1  # 5xx or no answer: Stripe resends later
                    if status:
                        self.stats.retry_reasons[str(status)] += 1
                    await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
                self.stats.refused_4xx.append(f"{event['id']}: gave up after 20 attempts")

            async def worker() -> None:
                while True:
                    item = self._take()
                    if item is None:
                        if self.producers_done.is_set() and not self.pool:
                            return
                        await asyncio.sleep(0.01)
                        continue
                    self.stats.deliveries += 1
                    await deliver(*item)

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        self.stats.finished = time.monotonic()
        return self.stats


# -- the run ----------------------------------------------------------------------------------------

@dataclass
class ScaleConfig:
    invoices: int = 1000           # bulk history (no events): found by the backfill only
    events: int = 800              # target distinct invoice events from live invoices (~4 each)
    concurrency: int = 16
    timeout_s: float = 240.0
    seed: int | None = None
    keep_logs: bool = False
    log_level: str = "WARNING"
    quiet: bool = False


@dataclass
class Report:
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    log_dir: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for ok, _ in self.checks.values())

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks[name] = (ok, detail)

    def failures(self) -> str:
        return "\n".join(f"{n}: {d}" for n, (ok, d) in self.checks.items() if not ok)


class Api:
    def __init__(self, base_url: str, admin: str, operator: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60, trust_env=False)
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.operator = {"Authorization": f"Bearer {operator}"}

    async def call(self, method: str, path: str, *, role: str = "admin", **kwargs: Any) -> Any:
        headers = self.admin if role == "admin" else self.operator
        response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response.json()

    async def aclose(self) -> None:
        await self.http.aclose()


async def store_query(database_url: str, sql: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def run_scale_out(cfg: ScaleConfig) -> Report:
    report = Report()
    rng = random.Random(cfg.seed)
    def say(*parts: object) -> None:
        if not cfg.quiet:
            print(*parts, flush=True)

    t_start = time.monotonic()
    hexid = secrets.token_hex(4)
    db_name = f"invoicing_scale_{hexid}"
    prefix = f"invscale{hexid}"
    log_dir = Path(tempfile.mkdtemp(prefix=f"scale-out-{hexid}-"))
    report.log_dir = str(log_dir)
    procs = Processes(log_dir)
    db_created = False
    try:
        await create_database(db_name)
        db_created = True
        database_url = f"{PG_URL_BASE}/{db_name}"
        app_secret = secrets.token_urlsafe(32)
        ports = {name: free_port() for name in ("emulator", "server-a", "server-b", "worker-1", "worker-2")}
        servers = [f"http://{HOST}:{ports['server-a']}", f"http://{HOST}:{ports['server-b']}"]
        emulator_url = f"http://{HOST}:{ports['emulator']}"
        env = service_env({
            "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix,
            "APP_SECRET": app_secret, "STRIPE_API_BASE": emulator_url, "DATA_DIR": str(log_dir),
            "PUBLIC_URL": servers[0], "JOB_LEASE_S": "10", "SWEEP_INTERVAL_S": "5",
            "PENDING_EVENT_GRACE_S": "20", "RECONCILE_INTERVAL_S": "3600", "LOG_FORMAT": "json",
            "LOG_LEVEL": cfg.log_level, "STRIPE_RATE_SANDBOX": "100",
        })
        procs.start("emulator", ["sandbox", "stripe", "--port", str(ports["emulator"])], service_env({"LOG_LEVEL": "WARNING"}))
        procs.start("server-a", ["serve", "--host", HOST, "--port", str(ports["server-a"])], env)
        procs.start("server-b", ["serve", "--host", HOST, "--port", str(ports["server-b"])], env)
        for worker in ("worker-1", "worker-2"):  # each serves its own counters (METRICS_PORT)
            procs.start(worker, ["worker"], {**env, "METRICS_PORT": str(ports[worker])})
        worker_metrics = [f"http://{HOST}:{ports['worker-1']}", f"http://{HOST}:{ports['worker-2']}"]
        created = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "workspace", "create", "Scale-out", "--json",
            env=env, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await asyncio.gather(
            wait_http(f"{emulator_url}/_emulator/state", timeout_s=30, procs=procs, name="emulator"),
            wait_http(f"{servers[0]}/readyz", timeout_s=30, procs=procs, name="server-a"),
            wait_http(f"{servers[1]}/readyz", timeout_s=30, procs=procs, name="server-b"),
        )
        out, err = await created.communicate()
        if created.returncode != 0:
            raise RuntimeError(f"workspace create failed: {err.decode()[-2000:]}")
        ws = next(d for line in out.decode().splitlines() if line.startswith("{")
                  and "admin_token" in (d := json.loads(line)))
        workspace_id = ws["workspace_id"]
        say(f"processes up in {time.monotonic() - t_start:.1f} s; logs in {log_dir}")

        with running_receiver() as receiver:
            return await _run(cfg, report, rng, say, procs, servers, worker_metrics, emulator_url, database_url,
                              app_secret, workspace_id, ws, receiver, t_start)
    finally:
        exited = procs.exited()
        procs.stop_all()
        if exited:
            report.check("processes stayed up", False, f"exited early: {exited}")
        if db_created:
            await drop_database(db_name)
        deleted = delete_redis_keys(REDIS_URL, prefix)
        report.figures["redis_keys_deleted"] = deleted
        if report.ok and not cfg.keep_logs:
            for path in log_dir.iterdir():
                path.unlink()
            log_dir.rmdir()


async def _run(cfg: ScaleConfig, report: Report, rng: random.Random, say: Any, procs: Processes,
               servers: list[str], worker_metrics: list[str], emulator_url: str, database_url: str, app_secret: str, workspace_id: str,
               ws: dict[str, str], receiver: Receiver, t_start: float) -> Report:
    from app.secrets_box import SecretBox

    emu = httpx.AsyncClient(base_url=emulator_url, timeout=120, trust_env=False)
    api = Api(servers[0], ws["admin_token"], ws["operator_token"])
    api_b = Api(servers[1], ws["admin_token"], ws["operator_token"])
    stripe: StripeREST | None = None
    try:
        account = (await emu.post("/_emulator/accounts", json={})).json()
        stripe = StripeREST(emulator_url, account["secret_key"])
        # The emulator queues its own deliveries but sends none: every delivery is the storm's.
        (await emu.put("/_emulator/webhooks", json={"paused": True})).raise_for_status()
        connection = await api.call("PUT", "/api/connection", json={"stripe_api_key": account["secret_key"], "mode": "sandbox"})
        assert connection["webhook"]["registered"], connection
        workflow = await api.call("POST", "/api/workflows", json={
            "name": "Paid -> receiver",
            "trigger": {"block_id": "stripe.invoice_paid", "config": {}},
            "steps": [{"block_id": "http.request", "config": {
                "url": receiver.url,
                "body": {"event_id": "{{ trigger.event_id }}", "invoice_id": "{{ trigger.invoice.id }}"}}}],
        })
        row = (await store_query(database_url, "SELECT webhook_secret_ciphertext FROM connections WHERE workspace_id=$1",
                                 workspace_id))[0]
        secret = SecretBox(app_secret).decrypt(row["webhook_secret_ciphertext"])

        # Stripe's history: bulk invoices (no events) and live ones (real events).
        t = time.monotonic()
        if cfg.invoices:
            bulk = await emu.post("/_emulator/bulk_invoices", json={
                "account_id": account["account_id"], "count": cfg.invoices,
                "customers": max(1, cfg.invoices // 20), "statuses": {"paid": 0.6, "open": 0.3, "void": 0.1}})
            bulk.raise_for_status()
        live_count = max(1, math.ceil(cfg.events / 4))
        emails = [f"scale-{i}@example.com" for i in range(max(1, live_count // 3))]
        live_ids = await bounded(8, [create_live_invoice(stripe, emails[i % len(emails)], 1000 + 7 * i)
                                     for i in range(live_count)])
        say(f"stripe history: {cfg.invoices} bulk + {live_count} live invoices in {time.monotonic() - t:.1f} s")

        storm = Storm(servers, workspace_id, secret, rng, cfg.concurrency)
        first_events = [e for e in await stripe.list_all("/v1/events") if e["type"].startswith(INVOICE_EVENT_PREFIX)]
        storm.add(first_events)

        # Go: backfill, live invoices moving on, and the storm, all at once.
        t_run = time.monotonic()
        started = await api.call("POST", "/api/actions/sync-invoices", role="operator")
        storm_task = asyncio.create_task(storm.run())
        plan = fates(len(live_ids), rng)
        await bounded(8, [advance_live_invoice(stripe, inv, fate) for inv, fate in zip(live_ids, plan, strict=True)])
        all_events = [e for e in await stripe.list_all("/v1/events") if e["type"].startswith(INVOICE_EVENT_PREFIX)]
        storm.add(all_events)
        storm.producers_done.set()
        stats = await storm_task
        say(f"storm: {stats.deliveries} deliveries of {len(storm.seen)} events in "
            f"{stats.finished - stats.started:.1f} s")

        # Wait for the backfill, the events and the workflow runs to settle.
        paid_events = {e["id"] for e in all_events if e["type"] == "invoice.paid"}
        job: dict[str, Any] = {}
        deadline = time.monotonic() + cfg.timeout_s
        settled = False
        counts: dict[str, int] = {}
        run_counts: dict[str, int] = {}
        while time.monotonic() < deadline:
            if procs.exited():
                break
            job = await api.call("GET", f"/api/jobs/{started['job_id']}", role="operator")
            counts = {r["status"]: r["n"] for r in await store_query(
                database_url, "SELECT status, count(*) AS n FROM stripe_events WHERE workspace_id=$1 GROUP BY status",
                workspace_id)}
            run_counts = {r["status"]: r["n"] for r in await store_query(
                database_url, "SELECT status, count(*) AS n FROM workflow_runs WHERE workflow_id=$1 GROUP BY status",
                workflow["id"])}
            events_done = counts.get("pending", 0) == 0 and sum(counts.values()) >= len(storm.seen)
            runs_done = (sum(run_counts.values()) >= len(paid_events)
                         and not any(run_counts.get(s) for s in ("queued", "running", "retrying")))
            if job.get("status") in ("succeeded", "failed") and events_done and runs_done:
                settled = True
                break
            await asyncio.sleep(0.5)
        t_settled = time.monotonic()
        report.check("settled in time", settled,
                     f"job={job.get('status')} events={counts} runs={run_counts} (paid events {len(paid_events)})")
        say(f"settled {t_settled - t_run:.1f} s after the start of the run")

        await _verify(report, api, api_b, stripe, database_url, workspace_id, workflow["id"], paid_events,
                      storm, job, receiver)

        # Figures.
        lags = [float(r["lag"]) for r in await store_query(
            database_url, "SELECT EXTRACT(EPOCH FROM processed_at - received_at) AS lag FROM stripe_events "
                          "WHERE workspace_id=$1 AND processed_at IS NOT NULL", workspace_id)]
        storm_s = max(1e-9, stats.finished - stats.started)
        backfill_s = _elapsed(job)
        report.figures.update({
            "servers": 2, "workers": 2,
            "bulk_invoices": cfg.invoices, "live_invoices": live_count,
            "stripe_invoices": report.figures.get("stripe_invoices"),
            "distinct_events": len(storm.seen), "deliveries": stats.deliveries,
            "duplicate_deliveries": stats.duplicates, "retried_deliveries": stats.retried,
            "retry_reasons": dict(stats.retry_reasons),
            "storm_s": round(storm_s, 2),
            "accepted_per_s": round(stats.accepted / storm_s, 1),
            "lag_p50_ms": round(percentile(lags, 0.50) * 1000, 1),
            "lag_p95_ms": round(percentile(lags, 0.95) * 1000, 1),
            "lag_max_ms": round(max(lags, default=0.0) * 1000, 1),
            "backfill_seen": job.get("counts", {}).get("seen"),
            "backfill_s": round(backfill_s, 2) if backfill_s else None,
            "backfill_per_s": round(job["counts"]["seen"] / backfill_s, 1) if backfill_s else None,
            "workflow_runs": len(paid_events),
            "run_s": round(t_settled - t_run, 2),
            "wall_s": round(time.monotonic() - t_start, 2),
        })
        report.figures["metrics"] = await _scrape_metrics(servers, SERVER_COUNTERS)
        report.figures["worker_metrics"] = await _scrape_metrics(worker_metrics, WORKER_COUNTERS)
        processed = sum(v for k, v in report.figures["worker_metrics"].items()
                        if k.startswith('invoicing_events_processed_total{outcome="ok"}'))
        report.check("worker /metrics count the processed events", processed >= len(storm.seen),
                     f"invoicing_events_processed_total over both workers = {processed:g} for {len(storm.seen)} events")
        return report
    finally:
        await emu.aclose()
        await api.aclose()
        await api_b.aclose()
        if stripe is not None:
            await stripe.aclose()


def _elapsed(job: dict[str, Any]) -> float | None:
    from datetime import datetime

    if not job.get("started_at") or not job.get("finished_at"):
        return None
    return (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])).total_seconds()


async def _verify(report: Report, api: Api, api_b: Api, stripe: StripeREST, database_url: str, workspace_id: str,
                  workflow_id: str, paid_events: set[str], storm: Storm, job: dict[str, Any],
                  receiver: Receiver) -> None:
    # Stripe's truth.
    invoices = {i["id"]: i for i in await stripe.list_all("/v1/invoices") if i["status"] != "draft"}
    report.figures["stripe_invoices"] = len(invoices)

    # The CRM, page by page, half of the pages from each server.
    records: list[dict[str, Any]] = []
    offset, total = 0, None
    while total is None or offset < total:
        page = await (api if (offset // 500) % 2 == 0 else api_b).call(
            "GET", f"/api/crm/objects/stripe_invoices/records?limit=500&offset={offset}", role="operator")
        total = page["total"]
        records.extend(page["data"])
        offset += 500
        if not page["data"]:
            break
    ids = [r["values"].get("stripe_invoice_id") for r in records]
    dup = [i for i, n in Counter(ids).items() if n > 1]
    missing = sorted(set(invoices) - set(ids))
    extra = sorted(set(ids) - set(invoices))
    report.check("every invoice exactly once in the CRM", not dup and not missing and not extra and len(ids) == total,
                 f"{len(ids)} records for {len(invoices)} Stripe invoices; duplicates {dup[:5]}, "
                 f"missing {missing[:5]} ({len(missing)}), extra {extra[:5]}")

    wrong: list[str] = []
    for record in records:
        values = record["values"]
        inv = invoices.get(values.get("stripe_invoice_id"))
        if inv is None:
            continue
        expected = {"status": inv["status"], "amount_paid": major(inv["amount_paid"], inv["currency"]),
                    "amount_remaining": major(inv["amount_remaining"], inv["currency"])}
        got = {k: values.get(k) for k in expected}
        if got != expected:
            wrong.append(f"{inv['id']}: crm {got} != stripe {expected}")
    report.check("final states equal Stripe's", not wrong, f"{len(wrong)} differ: {wrong[:5]}")

    # Workflow runs: exactly one per (workflow, invoice.paid event), all succeeded.
    rows = await store_query(database_url, "SELECT event_key, status FROM workflow_runs WHERE workflow_id=$1", workflow_id)
    per_event = Counter(r["event_key"] for r in rows)
    not_ok = [r["event_key"] for r in rows if r["status"] != "succeeded"]
    report.check("one workflow run per (workflow, event)",
                 set(per_event) == paid_events and all(n == 1 for n in per_event.values()) and not not_ok,
                 f"{len(rows)} runs for {len(paid_events)} invoice.paid events; repeated "
                 f"{[k for k, n in per_event.items() if n > 1][:5]}; missing {sorted(paid_events - set(per_event))[:5]}; "
                 f"not succeeded {not_ok[:5]}")
    listed = (await api.call("GET", f"/api/workflows/{workflow_id}/runs?limit=200"))["data"]
    listed_events = Counter(r["event_id"] for r in listed)
    report.check("runs API agrees (newest 200)",
                 len(listed) == min(200, len(paid_events)) and all(n == 1 for n in listed_events.values())
                 and set(listed_events) <= paid_events and all(r["status"] == "succeeded" for r in listed),
                 f"{len(listed)} listed, {sum(1 for n in listed_events.values() if n > 1)} repeated")
    keys = receiver.keys()
    report.check("receiver: one idempotency key per run, every paid event",
                 len(keys) == len(paid_events) and receiver.event_ids() == paid_events,
                 f"{len(keys)} keys ({sum(keys.values())} calls) for {len(paid_events)} paid events")

    # Events: none failed, none pending; every stormed event stored once.
    health = await api_b.call("GET", "/api/health")
    ev = health["webhook"]["events"]
    report.check("zero failed events (GET /api/health)", ev["failed"] == 0 and ev["pending"] == 0,
                 f"health events {ev}, recent failures {health['webhook'].get('recent_failures')}")
    stored = await store_query(database_url, "SELECT event_id FROM stripe_events WHERE workspace_id=$1", workspace_id)
    stored_ids = [r["event_id"] for r in stored]
    report.check("every delivered event stored once", Counter(stored_ids) == Counter(storm.seen),
                 f"{len(stored_ids)} stored rows for {len(storm.seen)} distinct events")
    report.check("no delivery refused", not storm.stats.refused_4xx,
                 f"{len(storm.stats.refused_4xx)} refused: {storm.stats.refused_4xx[:3]}")
    report.check("backfill succeeded", job.get("status") == "succeeded", f"job {job}")


SERVER_COUNTERS = ("invoicing_webhook_events_received_total", "invoicing_webhook_events_rejected_total")
WORKER_COUNTERS = ("invoicing_events_processed_total", "invoicing_events_failed_total",
                   "invoicing_event_processing_lag_seconds_count", "invoicing_backfill_invoices_total",
                   "invoicing_workflow_runs_total", "invoicing_stripe_calls_total")


async def _scrape_metrics(servers: list[str], wanted: tuple[str, ...]) -> dict[str, float]:
    """Sum of some counters over several /metrics endpoints."""
    totals: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        for server in servers:
            try:
                text = (await client.get(f"{server}/metrics")).text
            except httpx.HTTPError:
                continue
            for line in text.splitlines():
                if line.startswith(wanted):
                    name_labels, value = line.rsplit(" ", 1)
                    totals[name_labels] = totals.get(name_labels, 0.0) + float(value)
    return totals


def print_report(report: Report, cfg: ScaleConfig) -> None:
    f = report.figures
    print()
    print(f"scale-out: {f.get('servers')} servers + {f.get('workers')} workers, Postgres + Redis, emulator "
          f"process; {os.cpu_count()} cores, load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  Stripe invoices (non-draft)   {f.get('stripe_invoices')}  ({f.get('bulk_invoices')} bulk history + "
          f"{f.get('live_invoices')} live)")
    print(f"  storm                         {f.get('deliveries')} deliveries of {f.get('distinct_events')} events "
          f"(1-3 copies, shuffled, both servers), {f.get('duplicate_deliveries')} answered as duplicates, "
          f"{f.get('retried_deliveries')} resent after a 5xx or no answer {f.get('retry_reasons') or ''}")
    print(f"  accepted                      {f.get('accepted_per_s')} deliveries/s ({f.get('storm_s')} s, "
          f"concurrency {cfg.concurrency})")
    print(f"  processing lag (stored->done) p50 {f.get('lag_p50_ms')} ms, p95 {f.get('lag_p95_ms')} ms, "
          f"max {f.get('lag_max_ms')} ms")
    print(f"  backfill                      {f.get('backfill_seen')} invoices in {f.get('backfill_s')} s = "
          f"{f.get('backfill_per_s')} invoices/s (during the storm)")
    print(f"  workflow runs                 {f.get('workflow_runs')} (one per invoice.paid event)")
    print(f"  wall time                     {f.get('wall_s')} s total, {f.get('run_s')} s from backfill start "
          f"to settled")
    for name, value in sorted(f.get("metrics", {}).items()):
        print(f"  /metrics (both servers)       {name} {value:g}")
    for name, value in sorted(f.get("worker_metrics", {}).items()):
        print(f"  /metrics (both workers)       {name} {value:g}")
    print("checks:")
    for name, (ok, detail) in report.checks.items():
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}: {detail}")
    if not report.ok:
        print(f"logs kept in {report.log_dir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=ScaleConfig.invoices,
                        help="bulk invoice history the backfill pages through (no events)")
    parser.add_argument("--events", type=int, default=ScaleConfig.events,
                        help="distinct invoice events to storm (~4 per live invoice)")
    parser.add_argument("--concurrency", type=int, default=ScaleConfig.concurrency)
    parser.add_argument("--timeout", type=float, default=ScaleConfig.timeout_s, help="seconds to wait for settling")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the servers and workers")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    cfg = ScaleConfig(invoices=args.invoices, events=args.events, concurrency=args.concurrency,
                      timeout_s=args.timeout, seed=args.seed, keep_logs=args.keep_logs, log_level=args.log_level)
    try:
        report = asyncio.run(run_scale_out(cfg))
    except KeyboardInterrupt:
        print("interrupted; processes stopped, database dropped", file=sys.stderr)
        sys.exit(130)
    print_report(report, cfg)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()

"""Webhook intake over loopback: accepted signed events/s vs a bare Starlette endpoint, same run.

    .venv/bin/python bench/webhook_intake.py [--events 5000] [--concurrency 32] [--warmup 200]
                                             [--max-seconds 120] [--drain-seconds 60]

1. Sets up a SQLite store in a temp dir: one workspace whose connection row holds an encrypted
   webhook secret (as after connecting a key; no Stripe is involved: the events are
   `customer.created`, a type the sync stores, queues and processes but does not mirror, so the
   figures are intake's own cost, not the CRM upsert's).
2. Serves the real app (`app.http.app.create_app(settings)`, no REDIS_URL, so the in-process queue
   processes each stored event in the same server process) in a child process with uvicorn, one
   worker, `invoicing serve`'s settings. Then, in the same way, a bare Starlette app whose one
   endpoint reads the body and returns 200 JSON.
3. One load generator (httpx.AsyncClient, `--concurrency` connections) sends `--events` unique
   events, signed before the clock starts (`app.stripe.webhooks.sign_payload`), to each server in
   turn (after `--warmup` requests), and prints accepted (2xx) requests/s, p50/p95/p99 latency,
   CPU seconds used by the server process and by the generator, and the ratio intake / bare.
4. Waits (at most `--drain-seconds`) until the in-process queue has processed every accepted event
   and prints the end-to-end rate.

Loopback only; bounded by `--events` and `--max-seconds` per phase; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ServerProcess, load_line, machine_line, percentile, print_profile, server_process

from app.clock import utcnow
from app.secrets_box import SecretBox, mask_key
from app.store import Store
from app.store.connections import save_connection
from app.store.sync_tables import stripe_events
from app.store.workspaces import create_workspace
from app.stripe.webhooks import sign_payload

APP_SECRET = "bench-webhook-intake-secret"
EVENT_TYPE = "customer.created"


@dataclass
class Phase:
    name: str
    sent: int = 0
    accepted: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    timed_out: bool = False

    @property
    def rate(self) -> float:
        return self.accepted / self.wall_s if self.wall_s > 0 else 0.0


def make_events(count: int, secret: str, tag: str) -> list[tuple[bytes, str]]:
    """Unique `customer.created` events, each with its Stripe-Signature header (signed now)."""
    now = int(time.time())
    out = []
    for i in range(count):
        event = {
            "id": f"evt_bench_{tag}_{i:07d}", "object": "event", "type": EVENT_TYPE, "created": now,
            "api_version": "2024-06-20", "livemode": False, "pending_webhooks": 1,
            "data": {"object": {"id": f"cus_bench_{tag}_{i:07d}", "object": "customer",
                                "email": f"bench-{i}@example.test", "name": f"Bench {i}", "created": now}},
            "request": {"id": None, "idempotency_key": None},
        }
        payload = json.dumps(event).encode()
        out.append((payload, sign_payload(payload, secret, now)))
    return out


class RawClient:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams: far less CPU per request than
    httpx, so a fast server is not measured at the generator's speed (`--client raw`)."""

    def __init__(self, base_url: str) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes, signature: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"Stripe-Signature: {signature}\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
        try:
            self.writer.write(head + payload)
            response = await self.reader.readuntil(b"\r\n\r\n")
            lines = response.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
            length = {k.strip().lower(): v.strip() for k, v in headers.items()}.get("content-length")
            if length is None:
                raise ConnectionError("response without Content-Length")
            await self.reader.readexactly(int(length))
            if {k.strip().lower(): v.strip().lower() for k, v in headers.items()}.get("connection") == "close":
                await self.close()
            return status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.close()
            raise ConnectionError("raw HTTP exchange failed") from None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def drive(base_url: str, path: str, events: list[tuple[bytes, str]], concurrency: int,
                max_seconds: float, phase: Phase | None, client_kind: str) -> None:
    """Send every event with at most `concurrency` in flight; record into `phase` (None: warm-up)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30, trust_env=False) as client:
        next_index = 0
        deadline = time.monotonic() + max_seconds

        async def send_httpx(payload: bytes, signature: str) -> int:
            r = await client.post(path, content=payload, headers={
                "Stripe-Signature": signature, "Content-Type": "application/json"})
            return r.status_code

        async def worker() -> None:
            nonlocal next_index
            raw = RawClient(base_url) if client_kind == "raw" else None
            try:
                while next_index < len(events) and time.monotonic() < deadline:
                    payload, signature = events[next_index]
                    next_index += 1
                    start = time.perf_counter()
                    try:
                        if raw is not None:
                            status = await asyncio.wait_for(raw.post(path, payload, signature), 30)
                        else:
                            status = await send_httpx(payload, signature)
                    except (httpx.HTTPError, ConnectionError, TimeoutError):
                        if phase is not None:
                            phase.sent += 1
                            phase.errors += 1
                        continue
                    if phase is None:
                        continue
                    phase.sent += 1
                    phase.statuses[status] = phase.statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        phase.accepted += 1
                        phase.latencies_ms.append((time.perf_counter() - start) * 1000)
            finally:
                if raw is not None:
                    await raw.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        if phase is not None and next_index < len(events):
            phase.timed_out = True


async def measure(server: ServerProcess, path: str, name: str, events: list[tuple[bytes, str]],
                  warmup: list[tuple[bytes, str]], args: argparse.Namespace) -> Phase:
    await drive(server.base_url, path, warmup, args.concurrency, args.max_seconds, None, args.client)
    phase = Phase(name)
    cpu0, client0, t0 = server.cpu_s(), time.process_time(), time.perf_counter()
    await drive(server.base_url, path, events, args.concurrency, args.max_seconds, phase, args.client)
    phase.wall_s = time.perf_counter() - t0
    phase.server_cpu_s, phase.client_cpu_s = server.cpu_s() - cpu0, time.process_time() - client0
    return phase


async def setup_store(database_url: str, secret: str) -> str:
    """A workspace whose connection holds the webhook secret, encrypted as the app does."""
    store = Store(database_url)
    try:
        await store.create_schema()
        ws = await create_workspace(store, "Bench webhook intake")
        box = SecretBox(APP_SECRET)
        key = "sk_test_bench_not_a_real_key_0000"  # never used: customer.created is not mirrored
        await save_connection(store, ws.workspace_id, mode="sandbox", key_ciphertext=box.encrypt(key),
                              key_masked=mask_key(key), account_id="acct_bench", livemode=False,
                              missing_permissions=[], connected_at=utcnow(), webhook_endpoint_id="we_bench",
                              webhook_secret_ciphertext=box.encrypt(secret),
                              webhook_url=f"http://127.0.0.1/webhooks/stripe/{ws.workspace_id}",
                              webhook_registered_at=utcnow())
        return ws.workspace_id
    finally:
        await store.engine.dispose()


async def processed_count(database_url: str, workspace_id: str) -> tuple[int, int]:
    store = Store(database_url)
    try:
        async with store.connect() as conn:
            rows = (await conn.execute(select(stripe_events.c.status, func.count()).where(
                stripe_events.c.workspace_id == workspace_id).group_by(stripe_events.c.status))).all()
    finally:
        await store.engine.dispose()
    counts = {status: n for status, n in rows}
    return counts.get("processed", 0), sum(counts.values())


async def wait_drained(database_url: str, workspace_id: str, expected: int, limit_s: float) -> tuple[int, float]:
    """(processed events, seconds waited) once `expected` are processed or `limit_s` has passed."""
    start = time.perf_counter()
    processed = 0
    while time.perf_counter() - start < limit_s:
        processed, _ = await processed_count(database_url, workspace_id)
        if processed >= expected:
            break
        await asyncio.sleep(0.25)
    return processed, time.perf_counter() - start


def row(phase: Phase) -> str:
    lat = phase.latencies_ms
    other = {s: n for s, n in phase.statuses.items() if not 200 <= s < 300}
    note = ", ".join(f"{s}: {n}" for s, n in sorted(other.items()))
    if phase.errors:
        note = ", ".join(filter(None, [note, f"transport errors: {phase.errors}"]))
    if phase.timed_out:
        note = ", ".join(filter(None, [note, "stopped at --max-seconds"]))
    return (f"  {phase.name:<27} | {f'{phase.accepted}/{phase.sent}':>11} | {phase.rate:>7.0f} | "
            f"{percentile(lat, 0.5):>6.1f} | {percentile(lat, 0.95):>6.1f} | {percentile(lat, 0.99):>6.1f} | "
            f"{phase.wall_s:>6.1f} | {phase.server_cpu_s:>7.1f} | {phase.client_cpu_s:>7.1f} | {note or '-'}")


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {machine_line()}")
    print(f"events: {args.events} unique signed `{EVENT_TYPE}` events per server (+{args.warmup} warm-up), "
          f"concurrency {args.concurrency}, "
          f"{'httpx.AsyncClient' if args.client == 'httpx' else 'raw keep-alive HTTP/1.1 client'} over loopback")
    print("servers: one uvicorn worker in a child process each, `invoicing serve` settings "
          "(loop/http auto: uvloop + httptools); generator in this process")
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        database_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        secret = f"whsec_{secrets.token_hex(16)}"
        workspace_id = await setup_store(database_url, secret)
        path = f"/webhooks/stripe/{workspace_id}"
        app_env = {"DATABASE_URL": database_url, "DATA_DIR": tmp, "APP_SECRET": APP_SECRET,
                   "PUBLIC_URL": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text",
                   "STRIPE_API_BASE": "http://127.0.0.1:9"}
        events = make_events(args.events, secret, "m")
        warmup = make_events(args.warmup, secret, "w")

        if args.profile_server:
            app_env["BENCH_PROFILE"] = str(Path(args.profile_server).resolve())
        with server_process("app", app_env) as server:
            intake = await measure(server, path, "intake (real app, SQLite)", events, warmup, args)
            expected = intake.accepted + args.warmup
            processed, waited = await wait_drained(database_url, workspace_id, expected, args.drain_seconds)
        _, stored = await processed_count(database_url, workspace_id)
        with server_process("bare", {}) as server:
            bare = await measure(server, path, "bare Starlette endpoint", events, warmup, args)

    print()
    print("  server                      |    2xx/sent |   2xx/s | p50 ms | p95 ms | p99 ms | wall s | "
          "srv CPU | gen CPU | non-2xx")
    print("  " + "-+-".join("-" * w for w in (27, 11, 7, 6, 6, 6, 6, 7, 7, 7)))
    print(row(intake))
    print(row(bare))
    ratio = intake.rate / bare.rate if bare.rate else 0.0
    print()
    print(f"ratio intake / bare: {ratio:.2f} ({intake.rate:.0f} / {bare.rate:.0f} accepted requests/s)")
    print(f"intake stored {stored} event rows (expected {expected} incl. warm-up); processed by the in-process "
          f"queue: {processed}/{expected}, {waited:.1f}s after the last acceptance")
    total = intake.wall_s + waited
    if processed >= expected and total > 0:
        print(f"end to end (accepted and processed): {intake.accepted / total:.0f} events/s over {total:.1f}s")
    cores = len(os.sched_getaffinity(0))
    print(f"note: srv/gen CPU = CPU seconds used by the server process / by this generator during the timed phase "
          f"({cores} cores); the side whose CPU is near the wall time is the bound.")
    print(f"load average after the run: {load_line()}")
    if args.profile_server:
        print()
        print(f"cProfile of the app server process (whole life incl. start-up, warm-up and draining): "
              f"{args.profile_server}")
        print_profile(args.profile_server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000, help="timed events per server (default 5000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    parser.add_argument("--client", choices=("httpx", "raw"), default="httpx",
                        help="load generator: httpx.AsyncClient (default) or a minimal keep-alive HTTP/1.1 client "
                             "(less CPU per request, for when httpx is the bound)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests first (default 200)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop a phase after this long (default 120)")
    parser.add_argument("--drain-seconds", type=float, default=60.0,
                        help="wait at most this long for the queue to process the accepted events (default 60)")
    parser.add_argument("--profile-server", metavar="PATH",
                        help="run the app server under cProfile, dump to PATH and print its hotspots "
                             "(slows the intake figure: use for hotspots, not for the rate)")
    args = parser.parse_args()
    if args.events < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--events and --concurrency must be positive, --warmup not negative")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

"""Fixtures for the reliability suite: a Postgres database of our own (`invoicing_scale_<hex>`,
dropped afterwards), a Redis key prefix of our own on DB 14 (only keys containing it are deleted),
a private `redis-server` that a test may kill -9 and start again, and helpers to run
`invoicing serve` / `invoicing worker` as child processes (killed by process group afterwards)."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.scale_out import (
    HOST,
    Processes,
    create_database,
    delete_redis_keys,
    drop_database,
    free_port,
    service_env,
)

SHARED_REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"invoicing_scale_{secrets.token_hex(4)}"
    try:
        asyncio.run(create_database(name))
    except Exception as exc:  # noqa: BLE001 - no server: skipped, and say why
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(drop_database(name))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of our own on the shared Redis (DB 14); its keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(SHARED_REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {SHARED_REDIS_URL}: {exc}")
    finally:
        client.close()
    prefix = f"invrel{secrets.token_hex(4)}"
    yield prefix
    delete_redis_keys(SHARED_REDIS_URL, prefix)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    group = Processes(log_dir)
    try:
        yield group
    finally:
        group.stop_all()


def wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass
class PrivateRedis:
    """`redis-server` on a free port, ours alone: may be killed -9 and started again."""

    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(free_port(), tmp_path / "redis.log")
    redis.start()
    try:
        yield redis
    finally:
        redis.kill9()


def app_env(*, database_url: str, redis_url: str | None, prefix: str, stripe_base: str, data_dir: Path,
            public_url: str = "http://127.0.0.1:9", **extra: str) -> dict[str, str]:
    values = {"DATABASE_URL": database_url, "REDIS_KEY_PREFIX": prefix, "APP_SECRET": "reliability-secret",
              "STRIPE_API_BASE": stripe_base, "DATA_DIR": str(data_dir), "PUBLIC_URL": public_url,
              "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "RECONCILE_INTERVAL_S": "3600", **extra}
    if redis_url:
        values["REDIS_URL"] = redis_url
    return service_env(values)


async def wait_for(predicate: Any, *, timeout_s: float, interval_s: float = 0.1, what: str = "condition") -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out waiting for {what}; last value {last!r}")


async def cli_workspace(env: dict[str, str]) -> dict[str, str]:
    import sys

    from bench.scale_out import ROOT

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "workspace", "create", "Reliability", "--json", env=env, cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    for line in out.decode().splitlines():
        if line.startswith("{") and "admin_token" in line:
            data: dict[str, str] = json.loads(line)
            return data
    raise AssertionError(out.decode())


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        yield client


@asynccontextmanager
async def serve_in_loop(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn as a task of the running loop (so the app may share this
    loop's AppContext); yields its base URL. Real HTTP: the emulator can deliver webhooks to it."""
    from app.sandbox.server import bind_loopback, serving_in_loop

    async with serving_in_loop(app, bind_loopback(HOST, port), lifespan="off") as url:
        yield url

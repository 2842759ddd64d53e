"""A real `invoicing worker` (arq on Redis) is SIGKILLed mid-backfill; a restarted worker resumes
from the last committed page and every invoice ends in the CRM exactly once."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.context import AppContext, build_context
from app.sync.backfill import get_job, start_backfill
from tests.conftest import make_settings
from tests.sync.conftest import connect_without_webhook
from tests.sync.test_backfill import _crm_ids

pytestmark = [pytest.mark.redis, pytest.mark.slow]
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of our own; only keys containing it are deleted afterwards."""
    import redis

    value = f"invtest{secrets.token_hex(4)}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield value
    for key in client.scan_iter(match=f"*{value}*"):
        client.delete(key)
    client.close()


@pytest.fixture
async def arq_ctx(tmp_path: Path, emulator: Any, prefix: str) -> AsyncIterator[AppContext]:
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url, redis_url=REDIS_URL,
                             redis_key_prefix=prefix, job_lease_s=2.0)
    ctx = await build_context(settings)
    try:
        yield ctx
    finally:
        await ctx.aclose()


def _worker(ctx: AppContext, log: Path) -> subprocess.Popen[bytes]:
    s = ctx.settings
    env = {**os.environ, "DATABASE_URL": s.database_url, "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": s.redis_key_prefix,
           "APP_SECRET": "test-app-secret", "STRIPE_API_BASE": s.stripe_api_base or "", "DATA_DIR": str(s.data_dir),
           "JOB_LEASE_S": "2", "SWEEP_INTERVAL_S": "1", "LOG_FORMAT": "json"}
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


async def _wait(ctx: AppContext, ws: str, job_id: str, done: Any, timeout_s: float) -> dict[str, Any]:
    job: dict[str, Any] = {}
    for _ in range(int(timeout_s * 10)):
        job = await get_job(ctx, ws, job_id)
        if done(job):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out; job is {job}")


async def test_sigkill_mid_backfill_then_restart(arq_ctx: AppContext, emulator: Any, tmp_path: Path) -> None:
    account_id, key = emulator.new_account()
    ws = await connect_without_webhook(arq_ctx, key, account_id)
    emulator.state.bulk_invoices(account_id, 1500, customers=25)
    log = tmp_path / "worker.log"

    first = _worker(arq_ctx, log)
    try:
        started = await start_backfill(arq_ctx, ws)
        await _wait(arq_ctx, ws, started.job_id, lambda j: j["pages"] >= 3, 60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed = await get_job(arq_ctx, ws, started.job_id)
    assert killed["status"] == "running" and killed["counts"]["seen"] < 1500, killed

    second = _worker(arq_ctx, log)
    try:
        job = await _wait(arq_ctx, ws, started.job_id, lambda j: j["status"] in ("succeeded", "failed"), 120)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(15)
        except subprocess.TimeoutExpired:
            second.kill()
    assert job["status"] == "succeeded", (job, log.read_text()[-3000:])
    assert job["pages"] >= 15 and job["counts"]["seen"] >= 1500
    ids = await _crm_ids(type("C", (), {"ctx": arq_ctx, "workspace_id": ws})())  # type: ignore[arg-type]
    assert len(ids) == 1500 and len(set(ids)) == 1500

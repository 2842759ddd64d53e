"""bench/scale_out.py at a small size: 2 servers + 2 workers on Postgres + Redis, ~300 signed
deliveries (each event 1-3 times, shuffled, both servers) while a backfill runs. Asserts the
correctness checks only (every invoice once, states equal Stripe's, one workflow run per event,
no failed event), never the timing figures."""

from __future__ import annotations

import pytest

from bench.scale_out import PG_ADMIN_DSN, REDIS_URL, ScaleConfig, run_scale_out

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


async def test_scale_out_small() -> None:
    import asyncpg
    import redis

    try:
        await (await asyncpg.connect(PG_ADMIN_DSN, timeout=5)).close()
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    report = await run_scale_out(ScaleConfig(invoices=100, events=150, concurrency=12, timeout_s=60, seed=8,
                                             quiet=True, log_level="INFO"))
    assert report.ok, f"{report.failures()}\nlogs: {report.log_dir}"
    figures = report.figures
    assert figures["deliveries"] >= figures["distinct_events"] >= 140
    assert figures["stripe_invoices"] == 100 + figures["live_invoices"]
    assert figures["workflow_runs"] > 0

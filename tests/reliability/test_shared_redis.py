"""Two deployments sharing one Redis (and DB index), told apart by REDIS_KEY_PREFIX.

arq derives a periodic job's unique id from its name (`<name>:<due time in ms>`); the names used to
be `cron:maintenance.sweep` in every deployment, so at each tick the first deployment to enqueue
took the id and the others' sweep (and reconcile) silently did not run. The names now carry the
prefix; every key arq writes for a deployment then contains the prefix."""

from __future__ import annotations

from pathlib import Path

from app.jobs.arq_queue import build_worker
from tests.conftest import make_settings


async def test_periodic_job_ids_are_per_deployment(tmp_path: Path) -> None:
    names = []
    for prefix in ("deploy-a", "deploy-b"):
        settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:6379/14", redis_key_prefix=prefix,
                                 sweep_interval_s=1.0)
        worker = build_worker(settings, burst=True)
        crons = {c.name for c in worker.cron_jobs}
        assert crons and all(prefix in name for name in crons), crons
        names.append(crons)
    assert not names[0] & names[1], names

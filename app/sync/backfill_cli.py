"""`invoicing backfill WORKSPACE`: start (or resume) and run the backfill here, printing progress."""

from __future__ import annotations

import asyncio

import click

from app.config import Settings
from app.errors import AppError
from app.jobs.inprocess import InProcessJobs


def run_backfill_cli(settings: Settings, workspace_id: str) -> None:
    from app.context import build_context
    from app.sync.backfill import get_job, start_backfill

    async def run() -> int:
        # Run in this process even when a Redis queue is configured: the operator is watching.
        ctx = await build_context(settings, role="cli", jobs=InProcessJobs(concurrency=1, periodic=False))
        await ctx.jobs.start(ctx)
        try:
            started = await start_backfill(ctx, workspace_id)
            if started.already_running:
                click.echo(f"A backfill is already running ({started.job_id}); showing its progress.")
            while True:
                job = await get_job(ctx, workspace_id, started.job_id)
                c = job["counts"]
                click.echo(f"\r{job['status']}: seen {c['seen']}, created {c['created']}, updated {c['updated']}, "
                           f"unmatched {c['unmatched']}, {job['rate_per_s'] or 0}/s", nl=False)
                if job["status"] in ("succeeded", "failed"):
                    click.echo("")
                    if job["error"]:
                        click.echo(f"error: {job['error']}", err=True)
                    return 0 if job["status"] == "succeeded" else 1
                await asyncio.sleep(0.5)
        except AppError as exc:
            click.echo(f"error: {exc.message}", err=True)
            return 2
        finally:
            await ctx.aclose()

    raise SystemExit(asyncio.run(run()))

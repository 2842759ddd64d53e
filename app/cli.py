"""The `invoicing` command (contract: DESIGN §6 CLI)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from app.config import Settings, load_settings
from app.logs import configure_logging

T = TypeVar("T")


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _with_context(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from app.context import build_context

    async def run() -> T:
        ctx = await build_context(settings, role="cli")
        try:
            return await fn(ctx)
        finally:
            await ctx.aclose()

    return asyncio.run(run())


@click.group()
def main() -> None:
    """Stripe Invoicing for the CRM."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Run with the Stripe emulator and a seeded demo workspace.")
def serve(host: str, port: int, demo: bool) -> None:
    """Run the HTTP service (and, without REDIS_URL, the in-process job runner)."""
    settings = _settings()
    if demo:
        from app.sandbox.demo import serve_demo

        serve_demo(settings, host, port)
        return
    _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.http.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False, ws="none")


@main.command()
def worker() -> None:
    """Run an arq worker (needs REDIS_URL)."""
    settings = _settings()
    if not settings.redis_url:
        raise click.UsageError("invoicing worker needs REDIS_URL (without it the server runs jobs in-process).")
    from app.jobs.arq_queue import run_worker

    run_worker(settings)


@main.group()
def workspace() -> None:
    """Create or delete workspaces."""


@workspace.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def workspace_create(name: str, as_json: bool) -> None:
    """Create a workspace and print its admin and operator tokens (shown once)."""
    from app.store.workspaces import create_workspace

    settings = _settings()
    try:
        created = _with_context(settings, lambda ctx: create_workspace(ctx.store, name))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"workspace_id": created.workspace_id, "admin_token": created.admin_token,
                               "operator_token": created.operator_token}))
        return
    click.echo(f"workspace_id:   {created.workspace_id}")
    click.echo(f"admin_token:    {created.admin_token}")
    click.echo(f"operator_token: {created.operator_token}")
    click.echo("The tokens are shown once; store them now.")


@workspace.command("delete")
@click.argument("workspace_id")
def workspace_delete(workspace_id: str) -> None:
    """Uninstall: remove the Stripe webhook endpoint, erase secrets and the workspace's data."""
    from app.workspace_lifecycle import delete_workspace

    settings = _settings()
    found = _with_context(settings, lambda ctx: delete_workspace(ctx, workspace_id))
    if not found:
        click.echo(f"No workspace {workspace_id}.", err=True)
        sys.exit(1)
    click.echo(f"Deleted workspace {workspace_id}.")


@main.command()
@click.argument("workspace_id")
def backfill(workspace_id: str) -> None:
    """Run (or resume) the invoice backfill for a workspace in this process, showing progress."""
    from app.sync.backfill_cli import run_backfill_cli

    run_backfill_cli(_settings(), workspace_id)


@main.group()
def sandbox() -> None:
    """Local stand-ins for outside services."""


@sandbox.command("stripe")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=12111, show_default=True, type=int)
def sandbox_stripe(host: str, port: int) -> None:
    """Run the Stripe emulator alone."""
    configure_logging()
    from app.sandbox.server import serve as serve_emulator

    click.echo(f"Stripe emulator on http://{host}:{port} (set STRIPE_API_BASE to this)")
    serve_emulator(host, port)


if __name__ == "__main__":
    main()

"""The end-to-end stack: the Stripe emulator (its own thread) and the real app served by uvicorn
on a loopback port in the test's event loop, connected so signed webhooks reach it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.connection.service import connect
from app.context import AppContext, build_context
from app.http.app import build_app
from app.jobs.inprocess import InProcessJobs
from app.sandbox.server import RunningEmulator, running_emulator
from app.store.workspaces import create_workspace
from tests.blocks.support import RecordingJobs, Stack, base_url, bind_loopback, serving
from tests.conftest import bearer, make_settings


@pytest.fixture
async def quiet_ctx(tmp_path: Path, database_url: str) -> AsyncIterator[AppContext]:
    """An AppContext whose queue only records: jobs run when the test calls them. On SQLite and
    on Postgres (one database per session, so tests scope their queries to their workspace)."""
    ctx = await build_context(make_settings(tmp_path, database_url=database_url), jobs=RecordingJobs())
    try:
        yield ctx
    finally:
        await ctx.aclose()


@pytest.fixture
async def quiet_workspace(quiet_ctx: AppContext) -> str:
    return (await create_workspace(quiet_ctx.store, "Quiet")).workspace_id


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(webhook_retry_delays=(0.2, 0.5)) as emu:
        yield emu


@pytest.fixture
async def stack(tmp_path: Path, emulator: RunningEmulator) -> AsyncIterator[Stack]:
    sock = bind_loopback()
    settings = make_settings(tmp_path, public_url=base_url(sock), stripe_api_base=emulator.base_url)
    ctx = await build_context(settings, jobs=InProcessJobs(periodic=False))
    await ctx.jobs.start(ctx)
    try:
        async with serving(build_app(ctx, manage_context=False), sock) as url:
            workspace = await create_workspace(ctx.store, "Blocks")
            _, key = emulator.new_account()
            await connect(ctx, workspace.workspace_id, key, "sandbox")
            async with httpx.AsyncClient(base_url=url, headers=bearer(workspace.admin_token), timeout=10) as admin, \
                    httpx.AsyncClient(base_url=url, headers=bearer(workspace.operator_token), timeout=10) as operator:
                setup = await admin.post("/api/schema/setup")
                assert setup.status_code == 200, setup.text
                yield Stack(ctx, url, emulator, key, workspace, admin, operator)
    finally:
        await ctx.aclose()

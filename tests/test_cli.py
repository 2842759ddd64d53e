"""The `invoicing` command's contract: `workspace create --json` prints exactly one JSON object,
and `workspace delete` removes the workspace's Stripe webhook endpoint and its data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.connection.service import connect
from app.store.workspaces import principal_for_token
from tests.conftest import make_settings, running_context


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/test.db", "DATA_DIR": str(tmp_path),
                "APP_SECRET": "test-app-secret", "LOG_FORMAT": "json", **env}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=full_env, capture_output=True, text=True, check=False,
                          timeout=60)


async def test_workspace_create_json_is_one_object(tmp_path: Path) -> None:
    result = _cli(tmp_path, "workspace", "create", "Acme Ltd", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"workspace_id", "admin_token", "operator_token"}
    async with running_context(make_settings(tmp_path)) as ctx:
        admin = await principal_for_token(ctx.store, data["admin_token"])
        assert admin is not None and admin.workspace_id == data["workspace_id"]
    plain = _cli(tmp_path, "workspace", "create", "Other")
    assert plain.returncode == 0 and "admin_token:" in plain.stdout and "shown once" in plain.stdout
    empty = _cli(tmp_path, "workspace", "create", "  ")
    assert empty.returncode != 0 and "must not be empty" in empty.stderr


async def test_workspace_delete_removes_the_stripe_endpoint(tmp_path: Path, emulator: Any) -> None:
    created = json.loads(_cli(tmp_path, "workspace", "create", "Gone", "--json").stdout)
    account_id, key = emulator.new_account()
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url)
    async with running_context(settings) as ctx:
        await connect(ctx, created["workspace_id"], key, "sandbox")
    assert len(emulator.state.summary(account_id)["webhook_endpoints"]) == 1
    result = _cli(tmp_path, "workspace", "delete", created["workspace_id"], STRIPE_API_BASE=emulator.base_url)
    assert result.returncode == 0, result.stderr
    assert emulator.state.summary(account_id)["webhook_endpoints"] == []
    assert key not in result.stdout + result.stderr
    async with running_context(settings) as ctx:
        assert await principal_for_token(ctx.store, created["admin_token"]) is None
    again = _cli(tmp_path, "workspace", "delete", created["workspace_id"])
    assert again.returncode == 1 and "No workspace" in again.stderr


def test_worker_without_redis_is_a_clear_usage_error(tmp_path: Path) -> None:
    result = _cli(tmp_path, "worker", REDIS_URL="")
    assert result.returncode == 2 and "REDIS_URL" in result.stderr

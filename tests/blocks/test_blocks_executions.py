"""Host executions: stored per execution id; a refusal before anything ran is not replayed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.context import AppContext
from app.errors import AppError
from app.store.workflow_tables import block_executions
from blocks.executions import ExecuteRequest, execute_block


async def test_not_connected_is_not_replayed_once_fixed(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    request = ExecuteRequest(config={"invoice_id": "in_1", "action": "void"}, execution_id="x-1")
    for _ in range(2):
        result = await execute_block(quiet_ctx, quiet_workspace, "stripe.update_invoice_status", request)
        assert result.failure is not None and result.failure.code == "not_connected" and not result.failure.retryable
    async with quiet_ctx.store.connect() as conn:
        attempts = await conn.scalar(select(block_executions.c.attempts).where(
            block_executions.c.workspace_id == quiet_workspace, block_executions.c.execution_id == "x-1"))
    assert attempts == 2


async def test_execute_refuses_triggers_and_unknown_blocks(quiet_ctx: AppContext, quiet_workspace: str) -> None:
    request = ExecuteRequest(config={}, execution_id="x-2")
    with pytest.raises(AppError, match="is a trigger, not a step"):
        await execute_block(quiet_ctx, quiet_workspace, "stripe.invoice_paid", request)
    with pytest.raises(AppError, match="There is no block 'stripe.refund'"):
        await execute_block(quiet_ctx, quiet_workspace, "stripe.refund", request)

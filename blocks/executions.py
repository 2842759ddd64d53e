"""`POST /api/blocks/{id}/execute` for an external host: the same execution id always gets the
same answer, and the block's external effect happens once (stored result, plus idempotency keys
derived from the execution id for an attempt that failed retryably and is tried again)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from app.clock import utcnow
from app.errors import AppError, ErrorCode
from app.store.dialect import insert_ignore
from app.store.workflow_tables import block_executions
from blocks.errors import StepFailure
from blocks.registry import get_block
from blocks.steps import StepResult, run_step

if TYPE_CHECKING:
    from app.context import AppContext


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: dict[str, Any] = Field(default_factory=dict)
    execution_id: str = Field(min_length=1, max_length=200)


def _config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# Refusals before the block could do anything: once the workspace is fixed, the same execution
# id should run rather than replay the refusal.
_PRECONDITIONS = frozenset({ErrorCode.NOT_CONNECTED.value, ErrorCode.STRIPE_KEY_INVALID.value,
                            ErrorCode.STRIPE_PERMISSION.value})


def _stored(row: Any) -> StepResult | None:
    """The recorded result when it is final: a success, or a failure a retry cannot fix."""
    if row.status == "succeeded":
        return StepResult(outcome=row.outcome)
    error = row.error or {}
    if row.status == "failed" and not error.get("retryable") and error.get("code") not in _PRECONDITIONS:
        return StepResult(failure=StepFailure.from_json(error))
    return None


async def execute_block(ctx: AppContext, workspace_id: str, block_id: str, req: ExecuteRequest) -> StepResult:
    block = get_block(block_id, "step")
    digest = _config_hash(req.config)
    where = (block_executions.c.workspace_id == workspace_id, block_executions.c.execution_id == req.execution_id)
    async with ctx.locks.hold(f"block-execution:{workspace_id}:{req.execution_id}"):
        async with ctx.store.begin() as conn:
            await conn.execute(insert_ignore(
                conn.dialect.name, block_executions, workspace_id=workspace_id, execution_id=req.execution_id,
                block_id=block_id, config_hash=digest, status="running", attempts=0, created_at=utcnow()))
            row = (await conn.execute(select(block_executions).where(*where))).one()
        if row.block_id != block_id or row.config_hash != digest:
            raise AppError(ErrorCode.CONFLICT,
                           f"Execution id '{req.execution_id}' was already used with another block or config.",
                           fields={"execution_id": "already used"})
        stored = _stored(row)
        if stored is not None:
            return stored
        result = await run_step(ctx, block, workspace_id, req.execution_id, req.config)
        async with ctx.store.begin() as conn:
            await conn.execute(update(block_executions).where(*where).values(
                status="succeeded" if result.outcome is not None else "failed",
                outcome=result.outcome, error=result.failure.to_json() if result.failure else None,
                attempts=row.attempts + 1, finished_at=utcnow()))
        return result

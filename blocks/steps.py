"""Running one step, for a workflow run or for the host: validate the (rendered) config, execute,
check the outcome against the block's outcome model. Never raises for the block's own failures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from app.http.body import validation_failure
from blocks.base import BlockDefinition, StepCall
from blocks.errors import BlockErrorCode, StepFailure, failure_from

if TYPE_CHECKING:
    from app.context import AppContext


@dataclass(frozen=True)
class StepResult:
    outcome: dict[str, Any] | None = None
    failure: StepFailure | None = None


def invalid_config(block: BlockDefinition, exc: ValidationError) -> StepFailure:
    problem = validation_failure(exc)
    message = problem.message.replace("Invalid request:", f"Invalid config for {block.id}:", 1)
    return StepFailure(BlockErrorCode.INVALID_CONFIG.value, message, False, problem.fields)


async def run_step(ctx: AppContext, block: BlockDefinition, workspace_id: str, execution_id: str,
                   config: dict[str, Any]) -> StepResult:
    assert block.execute is not None, f"{block.id} is not a step"
    try:
        parsed = block.config_model.model_validate(config)
    except ValidationError as exc:
        return StepResult(failure=invalid_config(block, exc))
    try:
        raw = await block.execute(ctx, StepCall(workspace_id, execution_id, parsed))
        outcome = block.outcome_model.model_validate(raw).model_dump(mode="json")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded, classified error
        return StepResult(failure=failure_from(exc, block_id=block.id))
    return StepResult(outcome=outcome)

"""Internal workflows: save (validated), list, read, enable/disable, delete. Every change that can
alter whether a Stripe trigger is live reconciles the workspace's webhook endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select, update

from app.clock import utcnow
from app.errors import AppError, ErrorCode
from app.secrets_box import new_id
from app.store.workflow_tables import workflows
from blocks.activations import reconcile_quietly
from blocks.validation import WorkflowSpec, validate_workflow

if TYPE_CHECKING:
    from app.context import AppContext


class WorkflowPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)


def _iso(value: datetime) -> str:
    return value.isoformat()


def workflow_json(row: Any, webhook_warning: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "enabled": row.enabled,
        "trigger": {"block_id": row.trigger_block_id, "config": row.trigger_config},
        "steps": row.steps,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }
    if webhook_warning:
        out["webhook_warning"] = webhook_warning
    return out


async def _row(ctx: AppContext, workspace_id: str, workflow_id: str) -> Any:
    async with ctx.store.connect() as conn:
        row = (await conn.execute(select(workflows).where(
            workflows.c.workspace_id == workspace_id, workflows.c.id == workflow_id))).first()
    if row is None:
        raise AppError(ErrorCode.NOT_FOUND, f"No workflow '{workflow_id}' in this workspace.")
    return row


async def create_workflow(ctx: AppContext, workspace_id: str, spec: WorkflowSpec) -> dict[str, Any]:
    validate_workflow(spec)
    now = utcnow()
    workflow_id = new_id("wf")
    steps = [s.model_dump(exclude_none=True) for s in spec.steps]
    async with ctx.store.begin() as conn:
        await conn.execute(insert(workflows).values(
            id=workflow_id, workspace_id=workspace_id, name=spec.name, enabled=spec.enabled,
            trigger_block_id=spec.trigger.block_id, trigger_config=spec.trigger.config, steps=steps,
            created_at=now, updated_at=now))
    warning = await reconcile_quietly(ctx, workspace_id)
    return workflow_json(await _row(ctx, workspace_id, workflow_id), warning)


async def list_workflows(ctx: AppContext, workspace_id: str) -> list[dict[str, Any]]:
    async with ctx.store.connect() as conn:
        rows = (await conn.execute(select(workflows).where(workflows.c.workspace_id == workspace_id)
                                   .order_by(workflows.c.created_at, workflows.c.id))).all()
    return [workflow_json(r) for r in rows]


async def get_workflow(ctx: AppContext, workspace_id: str, workflow_id: str) -> dict[str, Any]:
    return workflow_json(await _row(ctx, workspace_id, workflow_id))


async def update_workflow(ctx: AppContext, workspace_id: str, workflow_id: str, patch: WorkflowPatch) -> dict[str, Any]:
    await _row(ctx, workspace_id, workflow_id)
    values: dict[str, Any] = {k: v for k, v in patch.model_dump(exclude_none=True).items()}
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise AppError(ErrorCode.VALIDATION, "Invalid request: name: must not be blank", fields={"name": "blank"})
    if values:
        async with ctx.store.begin() as conn:
            await conn.execute(update(workflows).where(
                workflows.c.workspace_id == workspace_id, workflows.c.id == workflow_id,
            ).values(updated_at=utcnow(), **values))
    warning = await reconcile_quietly(ctx, workspace_id) if "enabled" in values else None
    return workflow_json(await _row(ctx, workspace_id, workflow_id), warning)


async def delete_workflow(ctx: AppContext, workspace_id: str, workflow_id: str) -> None:
    """Deletes the workflow and its run history; a run in progress stops at its next step."""
    async with ctx.store.begin() as conn:
        result = await conn.execute(delete(workflows).where(
            workflows.c.workspace_id == workspace_id, workflows.c.id == workflow_id))
    if not result.rowcount:
        raise AppError(ErrorCode.NOT_FOUND, f"No workflow '{workflow_id}' in this workspace.")
    await reconcile_quietly(ctx, workspace_id)

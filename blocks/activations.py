"""External trigger activations (the host API) and whether a workspace needs the Stripe webhook."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import exists, insert, select, update

from app.clock import utcnow
from app.errors import AppError, ErrorCode
from app.http.body import parse_model
from app.store.workflow_tables import block_activations, block_deliveries, workflows
from blocks.deliveries import secret_for
from blocks.registry import STRIPE_TRIGGERS, get_block
from blocks.signing import SIGNATURE_HEADER

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    callback_url: str = Field(max_length=2000)
    activation_id: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("callback_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.strip()


class DeactivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activation_id: str = Field(min_length=1, max_length=200)


async def has_active_triggers(ctx: AppContext, workspace_id: str) -> bool:
    """True when an active activation or an enabled workflow starts from a Stripe trigger."""
    stripe_blocks = [b.id for b in STRIPE_TRIGGERS.values()]
    async with ctx.store.connect() as conn:
        query = select(
            exists().where(block_activations.c.workspace_id == workspace_id, block_activations.c.active.is_(True),
                           block_activations.c.block_id.in_(stripe_blocks)),
            exists().where(workflows.c.workspace_id == workspace_id, workflows.c.enabled.is_(True),
                           workflows.c.trigger_block_id.in_(stripe_blocks)),
        )
        row = (await conn.execute(query)).one()
    return bool(row[0] or row[1])


async def reconcile_quietly(ctx: AppContext, workspace_id: str) -> str | None:
    """Register or remove the Stripe webhook to match; a failure is reported, not raised (the
    change that prompted it is already saved, and connecting later reconciles again)."""
    from app.connection.webhook_endpoint import reconcile_webhook

    try:
        await reconcile_webhook(ctx, workspace_id)
    except AppError as exc:
        log.warning("webhook reconcile failed", extra={"workspace_id": workspace_id, "error": exc.message})
        return exc.message
    return None


async def activate(ctx: AppContext, workspace_id: str, block_id: str, req: ActivateRequest) -> dict[str, Any]:
    block = get_block(block_id, "trigger")
    config = parse_model(block.config_model, req.config).model_dump(mode="json")
    now = utcnow()
    async with ctx.store.begin() as conn:
        where = (block_activations.c.workspace_id == workspace_id, block_activations.c.activation_id == req.activation_id)
        current = (await conn.execute(select(block_activations.c.block_id).where(*where))).first()
        if current is not None and current.block_id != block_id:
            raise AppError(ErrorCode.CONFLICT, f"Activation '{req.activation_id}' belongs to block '{current.block_id}'.",
                           fields={"activation_id": "used by another block"})
        values = {"callback_url": req.callback_url, "config": config, "active": True, "updated_at": now}
        if current is None:
            await conn.execute(insert(block_activations).values(
                workspace_id=workspace_id, activation_id=req.activation_id, block_id=block_id, created_at=now, **values))
        else:
            await conn.execute(update(block_activations).where(*where).values(**values))
    warning = await reconcile_quietly(ctx, workspace_id) if block.stripe_event else None
    return {
        "activation_id": req.activation_id,
        "block_id": block_id,
        "callback_url": req.callback_url,
        "config": config,
        "active": True,
        "secret": secret_for(ctx, workspace_id, req.activation_id),
        "signature": {"header": SIGNATURE_HEADER, "scheme": "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, '<t>.<body>')>"},
        **({"webhook_warning": warning} if warning else {}),
    }


async def deactivate(ctx: AppContext, workspace_id: str, block_id: str, activation_id: str) -> dict[str, Any]:
    """Stop deliveries (pending ones are cancelled). Deactivating twice, or an unknown id, is fine."""
    block = get_block(block_id, "trigger")
    async with ctx.store.begin() as conn:
        result = await conn.execute(update(block_activations).where(
            block_activations.c.workspace_id == workspace_id, block_activations.c.activation_id == activation_id,
            block_activations.c.block_id == block_id, block_activations.c.active.is_(True),
        ).values(active=False, updated_at=utcnow()))
        await conn.execute(update(block_deliveries).where(
            block_deliveries.c.workspace_id == workspace_id, block_deliveries.c.activation_id == activation_id,
            block_deliveries.c.status == "pending",
        ).values(status="cancelled", next_attempt_at=None))
    if block.stripe_event:
        await reconcile_quietly(ctx, workspace_id)
    return {"activation_id": activation_id, "block_id": block_id, "active": False, "was_active": bool(result.rowcount)}

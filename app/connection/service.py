"""Connect, disconnect, and describe a workspace's Stripe connection."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.clock import utcnow
from app.connection.keys import Mode, check_key_for_mode
from app.connection.webhook_endpoint import register_webhook, remove_webhook, webhook_wanted, workspace_gateway
from app.errors import AppError, ErrorCode
from app.secrets_box import mask_key
from app.store.connections import ConnectionRow, delete_connection, get_connection, save_connection
from app.stripe.gateway import StripeGateway
from app.stripe.probe import explain, probe_permissions

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


async def connect(ctx: AppContext, workspace_id: str, key: str, mode: Mode) -> dict[str, Any]:
    key = key.strip()
    check_key_for_mode(key, mode)
    gw = ctx.stripe.for_key(key)
    try:
        account = await gw.retrieve_account()
    except AppError as exc:
        if exc.code is ErrorCode.STRIPE_PERMISSION:
            account = {}
        else:
            raise
    missing = await probe_permissions(gw)
    previous = await get_connection(ctx.store, workspace_id)
    if previous is not None and previous.webhook_endpoint_id:
        # Reconnecting: the old endpoint goes first, with the key that created it.
        try:
            await remove_webhook(ctx, workspace_id)
        except AppError as exc:
            log.warning("could not remove the previous webhook endpoint", extra={"error": exc.message})
    await save_connection(
        ctx.store, workspace_id,
        mode=mode, key_ciphertext=ctx.box.encrypt(key), key_masked=mask_key(key),
        account_id=account.get("id"), livemode=key.startswith(("sk_live_", "rk_live_")),
        missing_permissions=missing, connected_at=utcnow(),
        webhook_endpoint_id=None, webhook_secret_ciphertext=None, webhook_url=None,
        webhook_registered_at=None, webhook_error=None,
    )
    await _prepare_schema(ctx, workspace_id)
    if await webhook_wanted(ctx, workspace_id) and "Webhook endpoints: write" not in missing:
        try:
            await register_webhook(ctx, workspace_id)
        except AppError as exc:
            log.warning("webhook registration failed", extra={"workspace_id": workspace_id, "error": exc.message})
    log.info("stripe connected", extra={"workspace_id": workspace_id, "mode": mode, "missing": missing})
    return await describe(ctx, workspace_id)


async def _prepare_schema(ctx: AppContext, workspace_id: str) -> None:
    """With sync on, make the invoice object ready before the first event arrives (best effort:
    health reports what is wrong, and POST /api/schema/setup retries)."""
    from app.store.workspaces import get_settings
    from app.workspace_settings import schema_mapping_for
    from schema_mapping.setup import ensure_schema

    if not (await get_settings(ctx.store, workspace_id)).sync_enabled:
        return
    try:
        report = await ensure_schema(ctx.crm(workspace_id), await schema_mapping_for(ctx, workspace_id))
    except AppError as exc:
        log.warning("schema setup failed", extra={"workspace_id": workspace_id, "error": exc.message})
        return
    if not report.ok:
        log.warning("schema has conflicts", extra={"workspace_id": workspace_id,
                                                   "conflicts": [a.slug for a in report.conflicts]})


async def disconnect(ctx: AppContext, workspace_id: str) -> None:
    row = await get_connection(ctx.store, workspace_id)
    if row is None:
        raise AppError(ErrorCode.NOT_CONNECTED, "This workspace is not connected to Stripe.")
    await remove_webhook(ctx, workspace_id)
    await delete_connection(ctx.store, workspace_id)
    log.info("stripe disconnected", extra={"workspace_id": workspace_id})


def connection_json(row: ConnectionRow | None) -> dict[str, Any]:
    if row is None:
        return {"connected": False}
    return {
        "connected": True,
        "mode": row.mode,
        "key": row.key_masked,
        "account": row.account_id,
        "livemode": row.livemode,
        "connected_at": row.connected_at.isoformat(),
    }


def webhook_json(row: ConnectionRow | None) -> dict[str, Any]:
    if row is None:
        return {"registered": False}
    return {
        "registered": bool(row.webhook_endpoint_id),
        "endpoint_id": row.webhook_endpoint_id,
        "url": row.webhook_url,
        "registered_at": row.webhook_registered_at.isoformat() if row.webhook_registered_at else None,
        "error": row.webhook_error,
    }


async def describe(ctx: AppContext, workspace_id: str) -> dict[str, Any]:
    row = await get_connection(ctx.store, workspace_id)
    missing = list(row.missing_permissions) if row else []
    return {
        **connection_json(row),
        "missing_permissions": missing,
        "missing_permissions_detail": explain(missing),
        "webhook": webhook_json(row),
    }


async def require_gateway(ctx: AppContext, workspace_id: str) -> StripeGateway:
    """The workspace's gateway, or a 409 telling the user to connect Stripe first."""
    gateway = await workspace_gateway(ctx, workspace_id)
    if gateway is None:
        raise AppError(ErrorCode.NOT_CONNECTED, "Connect a Stripe key in Settings first.")
    return gateway

"""One Stripe webhook endpoint per workspace: registered while sync or a trigger needs it,
replaced on reconnect, removed on disconnect/uninstall (a 404 from Stripe counts as removed)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.clock import utcnow
from app.errors import AppError
from app.store.connections import ConnectionRow, get_connection, update_connection
from app.stripe.gateway import INVOICE_EVENTS, StripeGateway
from app.stripe.idempotency import idempotency_key
from app.sync.intake import forget_endpoint_secret

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


def webhook_url(ctx: AppContext, workspace_id: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/webhooks/stripe/{workspace_id}"


async def webhook_wanted(ctx: AppContext, workspace_id: str) -> bool:
    from app.store.workspaces import get_settings

    if (await get_settings(ctx.store, workspace_id)).sync_enabled:
        return True
    try:
        from blocks.activations import has_active_triggers
    except ImportError:
        return False
    return await has_active_triggers(ctx, workspace_id)


def gateway_for(ctx: AppContext, row: ConnectionRow) -> StripeGateway:
    return ctx.stripe.for_key(ctx.box.decrypt(row.key_ciphertext))


async def workspace_gateway(ctx: AppContext, workspace_id: str) -> StripeGateway | None:
    row = await get_connection(ctx.store, workspace_id)
    return gateway_for(ctx, row) if row else None


async def register_webhook(ctx: AppContext, workspace_id: str) -> None:
    """Make sure exactly one endpoint exists for the workspace (replacing any previous one)."""
    row = await get_connection(ctx.store, workspace_id)
    if row is None:
        return
    gw = gateway_for(ctx, row)
    if row.webhook_endpoint_id:
        await gw.delete_webhook_endpoint(row.webhook_endpoint_id)
        await update_connection(ctx.store, workspace_id, webhook_endpoint_id=None, webhook_secret_ciphertext=None,
                                webhook_url=None, webhook_registered_at=None)
    url = webhook_url(ctx, workspace_id)
    key = idempotency_key(workspace_id, "webhook", url, row.connected_at.isoformat(), utcnow().isoformat())
    try:
        endpoint = await gw.create_webhook_endpoint(url, INVOICE_EVENTS, {"workspace_id": workspace_id}, key)
    except AppError as exc:
        await update_connection(ctx.store, workspace_id, webhook_error=exc.message)
        raise
    try:
        await update_connection(
            ctx.store, workspace_id,
            webhook_endpoint_id=endpoint["id"],
            webhook_secret_ciphertext=ctx.box.encrypt(endpoint["secret"]),
            webhook_url=url, webhook_registered_at=utcnow(), webhook_error=None,
        )
    except Exception:
        # Never leave an endpoint in Stripe that we hold no secret for.
        await gw.delete_webhook_endpoint(endpoint["id"])
        raise
    forget_endpoint_secret(ctx, workspace_id)
    log.info("webhook endpoint registered", extra={"workspace_id": workspace_id, "endpoint": endpoint["id"]})


async def remove_webhook(ctx: AppContext, workspace_id: str) -> None:
    row = await get_connection(ctx.store, workspace_id)
    if row is None or not row.webhook_endpoint_id:
        return
    await gateway_for(ctx, row).delete_webhook_endpoint(row.webhook_endpoint_id)
    await update_connection(ctx.store, workspace_id, webhook_endpoint_id=None, webhook_secret_ciphertext=None,
                            webhook_url=None, webhook_registered_at=None, webhook_error=None)
    forget_endpoint_secret(ctx, workspace_id)
    log.info("webhook endpoint removed", extra={"workspace_id": workspace_id})


async def reconcile_webhook(ctx: AppContext, workspace_id: str) -> None:
    """Register or remove the endpoint to match what the workspace's settings need now."""
    if await webhook_wanted(ctx, workspace_id):
        row = await get_connection(ctx.store, workspace_id)
        if row is not None and not row.webhook_endpoint_id:
            await register_webhook(ctx, workspace_id)
    else:
        await remove_webhook(ctx, workspace_id)

"""Uninstalling a workspace: nothing of it may remain in Stripe or in our store."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.connection.webhook_endpoint import remove_webhook
from app.store.workspaces import delete_workspace_rows, workspace_exists

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


async def delete_workspace(ctx: AppContext, workspace_id: str) -> bool:
    if not await workspace_exists(ctx.store, workspace_id):
        return False
    await remove_webhook(ctx, workspace_id)  # raises if Stripe cannot be reached: retry later
    return await delete_workspace_rows(ctx.store, workspace_id)

"""The CRM adapter for a workspace, chosen by CRM_BACKEND."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import AppError, ErrorCode

if TYPE_CHECKING:
    from app.context import AppContext
    from app.crm.protocol import CRM


def crm_for_workspace(ctx: AppContext, workspace_id: str) -> CRM:
    if ctx.settings.crm_backend == "local":
        from app.crm.local.adapter import LocalCRM

        return LocalCRM(ctx.store, workspace_id)
    from app.crm.attio.factory import attio_crm_for

    if ctx.settings.attio_api_token is None:
        raise AppError(ErrorCode.CRM_INVALID_REQUEST, "CRM_BACKEND=attio needs ATTIO_API_TOKEN.")
    return attio_crm_for(ctx, workspace_id)

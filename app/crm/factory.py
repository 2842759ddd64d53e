"""The CRM adapter for a workspace, chosen by CRM_BACKEND."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import AppError, ErrorCode

if TYPE_CHECKING:
    from app.context import AppContext
    from app.crm.local.adapter import RecordUpdatedObserver
    from app.crm.protocol import CRM


def _record_observer(ctx: AppContext) -> RecordUpdatedObserver | None:
    """The workflow runtime's `crm.record_updated` trigger, when the blocks package is installed."""
    try:
        from blocks.crm_record_updated.trigger import RecordUpdatedHook
    except ImportError:
        return None
    return RecordUpdatedHook(ctx)


def crm_for_workspace(ctx: AppContext, workspace_id: str) -> CRM:
    if ctx.settings.crm_backend == "local":
        from app.crm.local.adapter import LocalCRM

        return LocalCRM(ctx.store, workspace_id, on_record_updated=_record_observer(ctx))
    from app.crm.attio.factory import attio_crm_for

    if ctx.settings.attio_api_token is None:
        raise AppError(ErrorCode.CRM_INVALID_REQUEST, "CRM_BACKEND=attio needs ATTIO_API_TOKEN.")
    return attio_crm_for(ctx, workspace_id)

"""Hand the rendered config to the invoicing service, keyed by the execution id."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from app.http.body import validation_failure
from blocks.base import StepCall
from blocks.errors import BlockError, BlockErrorCode

if TYPE_CHECKING:
    from app.context import AppContext


async def execute(ctx: AppContext, call: StepCall) -> dict[str, Any]:
    try:
        from app.invoicing.models import CreateInvoiceRequest, today_utc
        from app.invoicing.service import create_invoice
    except ImportError as exc:
        raise BlockError(BlockErrorCode.NOT_AVAILABLE, "Invoice creation is not available in this deployment yet.") from exc
    config = call.config
    due = config.due_date or (today_utc() + timedelta(days=config.days_until_due)).isoformat()
    raw = config.model_dump(mode="json", exclude={"due_date", "days_until_due"}, exclude_none=True)
    try:
        request = CreateInvoiceRequest.model_validate({**raw, "due_date": due})
    except ValidationError as exc:
        raise validation_failure(exc) from exc
    result = await create_invoice(ctx, call.workspace_id, request, execution_id=call.execution_id)
    return result.model_dump(mode="json")

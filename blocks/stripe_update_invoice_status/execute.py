"""Run one status change. The Stripe idempotency key comes from the execution id, so a retried
or repeated execution changes the invoice once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.connection.service import require_gateway
from app.errors import AppError, ErrorCode
from app.stripe.idempotency import idempotency_key
from blocks.base import StepCall
from blocks.errors import BlockError, BlockErrorCode
from blocks.invoice_outcome import invoice_summary

if TYPE_CHECKING:
    from app.context import AppContext
    from app.stripe.gateway import StripeGateway

# Where each action may start from (Stripe's invoice state machine), to explain a refusal.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "finalize": ("draft",),
    "send": ("open",),
    "pay": ("open", "uncollectible"),
    "void": ("open", "uncollectible"),
    "mark_uncollectible": ("open",),
}


async def _apply(gw: StripeGateway, action: str, invoice_id: str, key: str) -> dict[str, Any]:
    if action == "finalize":
        return await gw.finalize_invoice(invoice_id, key)
    if action == "send":
        return await gw.send_invoice(invoice_id, key)
    if action == "pay":
        return await gw.pay_invoice(invoice_id, key, paid_out_of_band=True)
    if action == "void":
        return await gw.void_invoice(invoice_id, key)
    return await gw.mark_uncollectible(invoice_id, key)


async def _refusal(gw: StripeGateway, action: str, invoice_id: str, exc: AppError) -> BlockError:
    """Stripe's 400 made specific: which status the invoice is in and what the action needs."""
    try:
        status = (await gw.retrieve_invoice(invoice_id)).get("status")
    except AppError:
        status = None
    allowed = " or ".join(ALLOWED_FROM[action])
    current = f"it is {status}" if status else "Stripe refused the transition"
    return BlockError(
        BlockErrorCode.INVALID_TRANSITION,
        f"Cannot {action.replace('_', ' ')} invoice {invoice_id}: {current}, and '{action}' is only allowed "
        f"from {allowed}. ({exc.message})",
        fields={"invoice_id": invoice_id, "action": action, "status": status or "unknown"},
    )


async def execute(ctx: AppContext, call: StepCall) -> dict[str, Any]:
    config = call.config
    gw = await require_gateway(ctx, call.workspace_id)
    key = idempotency_key(call.workspace_id, f"block.invoice_{config.action}", call.execution_id, config.invoice_id)
    try:
        invoice = await _apply(gw, config.action, config.invoice_id, key)
    except AppError as exc:
        if exc.code is ErrorCode.STRIPE_INVALID_REQUEST:
            raise await _refusal(gw, config.action, config.invoice_id, exc) from exc
        raise
    summary = invoice_summary(invoice)
    return {"invoice_id": summary.id, "action": config.action, "status": summary.status,
            "invoice": summary.model_dump(mode="json")}

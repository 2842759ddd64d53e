"""Every block, by id: an immutable mapping built once from the block folders."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from app.errors import AppError, ErrorCode
from blocks.base import BlockDefinition, BlockKind
from blocks.crm_record_updated.block import BLOCK as CRM_RECORD_UPDATED
from blocks.http_request.block import BLOCK as HTTP_REQUEST
from blocks.stripe_create_customer.block import BLOCK as STRIPE_CREATE_CUSTOMER
from blocks.stripe_create_invoice.block import BLOCK as STRIPE_CREATE_INVOICE
from blocks.stripe_invoice_finalized.block import BLOCK as STRIPE_INVOICE_FINALIZED
from blocks.stripe_invoice_paid.block import BLOCK as STRIPE_INVOICE_PAID
from blocks.stripe_invoice_payment_failed.block import BLOCK as STRIPE_INVOICE_PAYMENT_FAILED
from blocks.stripe_invoice_voided.block import BLOCK as STRIPE_INVOICE_VOIDED
from blocks.stripe_update_invoice_status.block import BLOCK as STRIPE_UPDATE_INVOICE_STATUS

# Manifest order: triggers, then steps.
BLOCKS: Mapping[str, BlockDefinition] = MappingProxyType({
    b.id: b
    for b in (
        STRIPE_INVOICE_FINALIZED,
        STRIPE_INVOICE_PAID,
        STRIPE_INVOICE_PAYMENT_FAILED,
        STRIPE_INVOICE_VOIDED,
        CRM_RECORD_UPDATED,
        STRIPE_CREATE_CUSTOMER,
        STRIPE_CREATE_INVOICE,
        STRIPE_UPDATE_INVOICE_STATUS,
        HTTP_REQUEST,
    )
})

# Stripe event type -> the trigger block it fires.
STRIPE_TRIGGERS: Mapping[str, BlockDefinition] = MappingProxyType(
    {b.stripe_event: b for b in BLOCKS.values() if b.stripe_event}
)


def get_block(block_id: str, kind: BlockKind | None = None) -> BlockDefinition:
    """The block, or NOT_FOUND / VALIDATION naming what is wrong."""
    block = BLOCKS.get(block_id)
    if block is None:
        raise AppError(ErrorCode.NOT_FOUND, f"There is no block '{block_id}'.", fields={"block_id": "unknown block"})
    if kind is not None and block.kind != kind:
        raise AppError(ErrorCode.VALIDATION, f"Block '{block_id}' is a {block.kind}, not a {kind}.",
                       fields={"block_id": f"not a {kind}"})
    return block

"""How a block fails: a code, a message fit for the user, and whether running it again can help.

Steps raise `AppError` (Stripe, CRM, validation: its code already says whether it is retryable)
or `BlockError` for what only blocks produce (HTTP targets, rendering). `failure_from` turns either
into the `StepFailure` that runs, executions and the host API record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.errors import AppError

log = logging.getLogger(__name__)


class BlockErrorCode(str, Enum):
    INVALID_CONFIG = "invalid_config"
    INVALID_TRANSITION = "invalid_transition"
    HTTP_REJECTED = "http_rejected"
    HTTP_UPSTREAM = "http_upstream_error"
    HTTP_UNREACHABLE = "http_unreachable"
    NOT_AVAILABLE = "block_not_available"
    INTERNAL = "internal_error"


_RETRYABLE: dict[BlockErrorCode, bool] = {
    BlockErrorCode.INVALID_CONFIG: False,
    BlockErrorCode.INVALID_TRANSITION: False,
    BlockErrorCode.HTTP_REJECTED: False,
    BlockErrorCode.HTTP_UPSTREAM: True,
    BlockErrorCode.HTTP_UNREACHABLE: True,
    # A capability not installed yet (e.g. the invoicing service): a later attempt may find it.
    BlockErrorCode.NOT_AVAILABLE: True,
    BlockErrorCode.INTERNAL: True,
}


def is_retryable(code: BlockErrorCode) -> bool:
    return _RETRYABLE[code]


class BlockError(Exception):
    def __init__(self, code: BlockErrorCode, message: str, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}

    @property
    def retryable(self) -> bool:
        return is_retryable(self.code)


@dataclass(frozen=True)
class StepFailure:
    code: str
    message: str
    retryable: bool
    fields: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable, "fields": self.fields}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepFailure:
        return cls(str(data["code"]), str(data["message"]), bool(data["retryable"]), dict(data.get("fields") or {}))


def failure_from(exc: BaseException, *, block_id: str) -> StepFailure:
    if isinstance(exc, AppError):
        if exc.detail:
            log.info("block failed", extra={"block": block_id, "code": exc.code.value, "detail": exc.detail})
        return StepFailure(exc.code.value, exc.message, exc.retryable, exc.fields)
    if isinstance(exc, BlockError):
        return StepFailure(exc.code.value, exc.message, exc.retryable, exc.fields)
    log.exception("block raised an unexpected error", extra={"block": block_id}, exc_info=exc)
    return StepFailure(BlockErrorCode.INTERNAL.value, "The block failed unexpectedly; it has been logged.", True)

"""Error codes, their user-facing messages, and whether a retry can help.

Every error a user can cause is an `AppError` with a code from `ErrorCode`; the HTTP edge maps it to
`{"error": {"code", "message", "fields"}}` with the code's status. A new code must be classified in
`_SPEC` (status, retryable): `is_retryable` never defaults.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    VALIDATION = "validation_error"
    MALFORMED_JSON = "malformed_json"
    BODY_TOO_LARGE = "body_too_large"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    NOT_CONNECTED = "not_connected"
    STRIPE_KEY_INVALID = "stripe_key_invalid"
    STRIPE_PERMISSION = "stripe_permission_missing"
    STRIPE_INVALID_REQUEST = "stripe_invalid_request"
    STRIPE_RATE_LIMITED = "stripe_rate_limited"
    STRIPE_UNAVAILABLE = "stripe_unavailable"
    CRM_INVALID_REQUEST = "crm_invalid_request"
    CRM_RATE_LIMITED = "crm_rate_limited"
    CRM_UNAVAILABLE = "crm_unavailable"
    CRM_NOT_SUPPORTED = "crm_not_supported"
    WEBHOOK_SIGNATURE = "webhook_signature_invalid"
    JOB_RUNNING = "job_already_running"
    INTERNAL = "internal_error"


# code -> (HTTP status, retryable)
_SPEC: dict[ErrorCode, tuple[int, bool]] = {
    ErrorCode.VALIDATION: (422, False),
    ErrorCode.MALFORMED_JSON: (400, False),
    ErrorCode.BODY_TOO_LARGE: (413, False),
    ErrorCode.UNAUTHENTICATED: (401, False),
    ErrorCode.FORBIDDEN: (403, False),
    ErrorCode.NOT_FOUND: (404, False),
    ErrorCode.CONFLICT: (409, False),
    ErrorCode.NOT_CONNECTED: (409, False),
    ErrorCode.STRIPE_KEY_INVALID: (422, False),
    ErrorCode.STRIPE_PERMISSION: (422, False),
    ErrorCode.STRIPE_INVALID_REQUEST: (422, False),
    ErrorCode.STRIPE_RATE_LIMITED: (503, True),
    ErrorCode.STRIPE_UNAVAILABLE: (502, True),
    ErrorCode.CRM_INVALID_REQUEST: (422, False),
    ErrorCode.CRM_RATE_LIMITED: (503, True),
    ErrorCode.CRM_UNAVAILABLE: (502, True),
    ErrorCode.CRM_NOT_SUPPORTED: (404, False),
    ErrorCode.WEBHOOK_SIGNATURE: (400, False),
    ErrorCode.JOB_RUNNING: (409, False),
    ErrorCode.INTERNAL: (500, True),
}


def http_status(code: ErrorCode) -> int:
    return _SPEC[code][0]


def is_retryable(code: ErrorCode) -> bool:
    return _SPEC[code][1]


class AppError(Exception):
    """An error with a message fit to show a user; `detail` goes to the log only."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fields: dict[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.detail = detail

    @property
    def status(self) -> int:
        return http_status(self.code)

    @property
    def retryable(self) -> bool:
        return is_retryable(self.code)

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code.value, "message": self.message, "fields": self.fields}}


def validation_error(message: str, **fields: str) -> AppError:
    return AppError(ErrorCode.VALIDATION, message, fields=fields)

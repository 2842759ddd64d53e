"""Verifying Stripe's webhook signatures on the raw bytes."""

from __future__ import annotations

import json
from typing import Any

import stripe

from app.errors import AppError, ErrorCode

TOLERANCE_S = 300


def verify_event(payload: bytes, signature_header: str | None, secret: str, *, tolerance: int = TOLERANCE_S) -> dict[str, Any]:
    """The event as a plain dict, or WEBHOOK_SIGNATURE (400) saying what is wrong."""
    if not signature_header:
        raise AppError(ErrorCode.WEBHOOK_SIGNATURE, "Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AppError(ErrorCode.WEBHOOK_SIGNATURE, "Body is not UTF-8.") from exc
    try:
        stripe.WebhookSignature.verify_header(text, signature_header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise AppError(ErrorCode.WEBHOOK_SIGNATURE, f"Signature verification failed: {exc.user_message or exc}") from exc
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AppError(ErrorCode.MALFORMED_JSON, "Signed body is not valid JSON.") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise AppError(ErrorCode.VALIDATION, "Body is not a Stripe event (no id or type).")
    return event


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """A Stripe-Signature header value (used by tests and benchmarks that play Stripe)."""
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload.decode()}", secret)
    return f"t={timestamp},v1={signature}"

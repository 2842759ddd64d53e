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
    if not signature_header.isascii():
        # stripe-python compares with hmac.compare_digest, which raises TypeError on non-ASCII text.
        raise AppError(ErrorCode.WEBHOOK_SIGNATURE, "Stripe-Signature header is not ASCII.")
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
    except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise AppError(ErrorCode.MALFORMED_JSON, "Signed body is not valid JSON.") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise AppError(ErrorCode.VALIDATION, "Body is not a Stripe event (no id or type).")
    problem = _shape_problem(event)
    if problem:
        raise AppError(ErrorCode.VALIDATION, f"Body is not a Stripe event: {problem}.")
    return event


def _shape_problem(event: dict[str, Any]) -> str | None:
    """What would break storing the event (column sizes, an integer `created`), or None. Even a
    correctly signed body must not turn into a 500 or a junk row."""
    if not 0 < len(event["id"]) <= 120 or not 0 < len(event["type"]) <= 80:
        return "id or type is empty or too long"
    created = event.get("created")
    if created is not None and (isinstance(created, bool) or not isinstance(created, int)
                                or not 0 <= created < 2**53):
        return "created is not a Unix timestamp"
    data = event.get("data")
    if data is not None and not isinstance(data, dict):
        return "data is not an object"
    obj = (data or {}).get("object")
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and len(obj["id"]) > 120:
        return "data.object.id is too long"
    return None


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """A Stripe-Signature header value (used by tests and benchmarks that play Stripe)."""
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload.decode()}", secret)
    return f"t={timestamp},v1={signature}"

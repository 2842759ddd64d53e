"""Signing callbacks to an external host: `X-Invoicing-Signature: t=<unix>,v1=<hex>` where
v1 = HMAC-SHA256(activation secret, "<t>.<raw body>") — Stripe's scheme, so hosts know it.

The secret is derived from APP_SECRET, the workspace and the activation id: nothing to store, and
activating the same id again (a host retrying) hands back the same secret."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Invoicing-Signature"
TOLERANCE_S = 300


def activation_secret(key_material: str, workspace_id: str, activation_id: str) -> str:
    digest = hmac.new(key_material.encode(), f"{workspace_id}\x1f{activation_id}".encode(), hashlib.sha256)
    return "whsec_" + digest.hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None, tolerance_s: int = TOLERANCE_S) -> bool:
    """What a host does on receipt (used by our tests; published for hosts)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={parts.get('v1', '')}")

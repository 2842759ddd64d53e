"""Deterministic idempotency keys: the same logical operation always sends the same key, so a
retry (ours, the SDK's, or a re-run job) can never create a second object."""

from __future__ import annotations

import hashlib


def idempotency_key(workspace_id: str, operation: str, *parts: object) -> str:
    material = "\x1f".join([workspace_id, operation, *(str(p) for p in parts)])
    return f"{operation}-{hashlib.sha256(material.encode()).hexdigest()[:40]}"

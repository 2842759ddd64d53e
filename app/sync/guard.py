"""The ordering guard (pure): may an observation of an invoice replace what the CRM shows?

Rules (DESIGN §5): paid and void are terminal and never left; an older observation never
overwrites a newer one; at the same second, the higher status rank wins; at the same second and
rank with different content we cannot tell which is newer, so the caller re-fetches from Stripe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

STATUS_RANK: dict[str, int] = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}
TERMINAL: frozenset[str] = frozenset({"paid", "void"})


@dataclass(frozen=True)
class Observation:
    status: str
    observed_at: int  # unix seconds: the event's `created`, or when the invoice was fetched
    fingerprint: str


class Verdict(Enum):
    APPLY = "apply"
    SKIP = "skip"  # older or the same: nothing to do
    REFETCH = "refetch"  # same time and rank, different content: ask Stripe


def fingerprint(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def judge(stored: Observation | None, incoming: Observation) -> Verdict:
    if stored is None:
        return Verdict.APPLY
    if stored.fingerprint == incoming.fingerprint:
        return Verdict.SKIP
    if stored.status in TERMINAL and incoming.status != stored.status:
        return Verdict.SKIP
    if incoming.status in TERMINAL and stored.status not in TERMINAL:
        return Verdict.APPLY
    new_key = (incoming.observed_at, STATUS_RANK.get(incoming.status, 0))
    old_key = (stored.observed_at, STATUS_RANK.get(stored.status, 0))
    if new_key > old_key:
        return Verdict.APPLY
    if new_key < old_key:
        return Verdict.SKIP
    return Verdict.REFETCH

"""Fault injection (429, 500, latency) and the optional per-account rate limit.

Both are decided before a request touches any state, so an injected error never half-applies.
"""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FaultConfig:
    rate_429: float = 0.0
    rate_500: float = 0.0
    latency_ms: float = 0.0
    path_regex: str | None = None
    method: str | None = None
    account_id: str | None = None
    seed: int | None = None
    times: int | None = None  # only the next N matching requests (None: no limit)

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_500"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.rate_429 + self.rate_500 > 1.0:
            raise ValueError("rate_429 + rate_500 must not exceed 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if self.path_regex is not None:
            re.compile(self.path_regex)
        if self.times is not None and self.times < 0:
            raise ValueError("times must not be negative")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultConfig:
        known = {"rate_429", "rate_500", "latency_ms", "path_regex", "method", "account_id", "seed",
                 "times"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(
            rate_429=float(data.get("rate_429") or 0.0),
            rate_500=float(data.get("rate_500") or 0.0),
            latency_ms=float(data.get("latency_ms") or 0.0),
            path_regex=data.get("path_regex"),
            method=(data.get("method") or None) and str(data["method"]).upper(),
            account_id=data.get("account_id"),
            seed=None if data.get("seed") is None else int(data["seed"]),
            times=None if data.get("times") is None else int(data["times"]),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FaultDecision:
    latency_s: float = 0.0
    status: int | None = None  # 429 or 500 to inject


NO_FAULT = FaultDecision()


class FaultInjector:
    """Seeded decisions; one random draw per matching request, in arrival order."""

    def __init__(self) -> None:
        self.config: FaultConfig | None = None
        self._pattern: re.Pattern[str] | None = None
        self._random = random.Random()
        self._remaining: int | None = None

    def configure(self, config: FaultConfig | None) -> None:
        self.config = config
        self._pattern = re.compile(config.path_regex) if config and config.path_regex else None
        self._random = random.Random(config.seed if config else None)
        self._remaining = config.times if config else None

    def decide(self, method: str, path: str, account_id: str | None) -> FaultDecision:
        config = self.config
        if config is None:
            return NO_FAULT
        if config.method is not None and config.method != method.upper():
            return NO_FAULT
        if config.account_id is not None and config.account_id != account_id:
            return NO_FAULT
        if self._pattern is not None and not self._pattern.search(path):
            return NO_FAULT
        if self._remaining is not None:
            if self._remaining <= 0:
                return NO_FAULT
            self._remaining -= 1
        draw = self._random.random()
        status: int | None = None
        if draw < config.rate_429:
            status = 429
        elif draw < config.rate_429 + config.rate_500:
            status = 500
        return FaultDecision(latency_s=config.latency_ms / 1000.0, status=status)


def over_rate_limit(window: deque[float], now: float, per_second: float | None) -> bool:
    """Sliding one-second window; records the request when it is let through."""
    if per_second is None:
        return False
    while window and window[0] <= now - 1.0:
        window.popleft()
    if len(window) >= per_second:
        return True
    window.append(now)
    return False

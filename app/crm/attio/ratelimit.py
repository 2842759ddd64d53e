"""Client-side token buckets for Attio's per-token limits (100 reads/s, 25 writes/s).

Throttling before sending keeps us under the limit instead of bouncing off 429s. The buckets
belong to one API token: build one `RateLimits` per token at start-up and share it between the
adapters that use the token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

ATTIO_READS_PER_SECOND = 100.0
ATTIO_WRITES_PER_SECOND = 25.0
_EPSILON = 1e-9


class TokenBucket:
    """`rate` tokens a second, bursts up to `capacity`; `acquire` waits until a token is free.

    Waiters are served in arrival order: the lock is held while sleeping, so a burst of callers
    leaves at an even pace rather than racing for each refill.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else rate
        if self.capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens

    async def acquire(self, tokens: float = 1.0) -> None:
        if tokens > self.capacity:
            raise ValueError("cannot acquire more tokens than the bucket holds")
        async with self._lock:
            while True:
                self._refill()
                # The epsilon keeps float rounding from turning a refill into an endless loop
                # of ever tinier sleeps.
                if self._tokens >= tokens - _EPSILON:
                    self._tokens = max(0.0, self._tokens - tokens)
                    return
                await self._sleep((tokens - self._tokens) / self.rate)


@dataclass(frozen=True)
class RateLimits:
    """The read and write buckets of one Attio API token."""

    read: TokenBucket
    write: TokenBucket

    @classmethod
    def for_attio(cls, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> RateLimits:
        return cls(
            read=TokenBucket(ATTIO_READS_PER_SECOND, clock=clock, sleep=sleep),
            write=TokenBucket(ATTIO_WRITES_PER_SECOND, clock=clock, sleep=sleep),
        )

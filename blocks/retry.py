"""Backoff for workflow steps and callback deliveries. The wait is a delayed re-enqueue (the state
lives in the store), not a sleep, so a restart loses no retry; tenacity's
wait (exponential plus jitter) computes the delay."""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import RetryCallState, wait_exponential, wait_random


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_s: float
    cap_s: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        # Exponential, plus a little jitter so retries of many runs do not arrive together.
        wait = wait_exponential(multiplier=self.base_s, max=self.cap_s) + wait_random(0, self.base_s / 2)
        return min(self.cap_s, float(wait(state)))


STEP_RETRY = RetryPolicy(max_attempts=5, base_s=2.0, cap_s=300.0)
CALLBACK_RETRY = RetryPolicy(max_attempts=8, base_s=5.0, cap_s=3600.0)

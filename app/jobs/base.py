"""What every queue offers, and the handler signature."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.context import AppContext

Handler = Callable[["AppContext", dict[str, Any]], Awaitable[None]]


class Jobs(Protocol):
    async def enqueue(self, name: str, *, key: str | None = None, delay_s: float = 0.0, **kwargs: Any) -> None:
        """Queue `name(**kwargs)`. With `key`, a job with the same key already waiting is not queued twice."""

    async def start(self, ctx: AppContext) -> None: ...

    async def stop(self) -> None: ...

    async def ping(self) -> None:
        """Raise when the queue cannot take work (readiness)."""

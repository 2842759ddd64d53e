"""An insertion-ordered store with Stripe-style, newest-first cursor pagination in O(page)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class CreatedRange:
    """`created[gt|gte|lt|lte]` (or `created=<ts>`, meaning equal)."""

    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None


@dataclass
class Page(Generic[T]):
    items: list[T]
    has_more: bool


class Collection(Generic[T]):
    """Objects in creation order with a parallel, non-decreasing `created` column.

    Deletion leaves a tombstone so positions stay valid; ids map to positions, so a cursor
    (`starting_after`/`ending_before`) is found in O(1) and a `created` range by bisection.
    """

    def __init__(self) -> None:
        self._ids: list[str | None] = []
        self._created: list[int] = []
        self._index: dict[str, int] = {}
        self._objects: dict[str, T] = {}

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, object_id: str) -> bool:
        return object_id in self._objects

    def next_created(self, created: int) -> int:
        """The timestamp to give a new object so the column stays sorted."""
        return max(created, self._created[-1]) if self._created else created

    def add(self, object_id: str, obj: T, created: int) -> None:
        if object_id in self._index:
            raise KeyError(f"duplicate id {object_id}")
        if self._created and created < self._created[-1]:
            raise ValueError("objects must be added in non-decreasing `created` order")
        self._index[object_id] = len(self._ids)
        self._ids.append(object_id)
        self._created.append(created)
        self._objects[object_id] = obj

    def get(self, object_id: str) -> T | None:
        return self._objects.get(object_id)

    def remove(self, object_id: str) -> T | None:
        obj = self._objects.pop(object_id, None)
        position = self._index.pop(object_id, None)
        if position is not None:
            self._ids[position] = None
        return obj

    def values(self) -> Iterator[T]:
        """Oldest first."""
        return iter(self._objects.values())

    def newest_first(self) -> Iterator[T]:
        for object_id in reversed(self._ids):
            if object_id is not None:
                yield self._objects[object_id]

    def position(self, object_id: str) -> int | None:
        return self._index.get(object_id)

    def _bounds(self, created: CreatedRange | None) -> tuple[int, int]:
        lo, hi = 0, len(self._ids)
        if created is None:
            return lo, hi
        if created.gt is not None:
            lo = max(lo, bisect_right(self._created, created.gt))
        if created.gte is not None:
            lo = max(lo, bisect_left(self._created, created.gte))
        if created.lt is not None:
            hi = min(hi, bisect_left(self._created, created.lt))
        if created.lte is not None:
            hi = min(hi, bisect_right(self._created, created.lte))
        return lo, hi

    def page(
        self,
        *,
        limit: int,
        starting_after: str | None = None,
        ending_before: str | None = None,
        created: CreatedRange | None = None,
        where: Callable[[T], bool] | None = None,
    ) -> Page[T]:
        """Newest first. Cursors must be ids in this collection (the caller checks)."""
        lo, hi = self._bounds(created)
        found: list[T] = []
        if ending_before is not None:
            # The `limit` objects just newer than the cursor, still answered newest first.
            lo = max(lo, self._index[ending_before] + 1)
            for position in range(lo, hi):
                obj = self._at(position, where)
                if obj is not None:
                    found.append(obj)
                    if len(found) > limit:
                        break
            has_more = len(found) > limit
            return Page(list(reversed(found[:limit])), has_more)
        if starting_after is not None:
            hi = min(hi, self._index[starting_after])
        for position in range(hi - 1, lo - 1, -1):
            obj = self._at(position, where)
            if obj is not None:
                found.append(obj)
                if len(found) > limit:
                    break
        return Page(found[:limit], len(found) > limit)

    def _at(self, position: int, where: Callable[[T], bool] | None) -> T | None:
        object_id = self._ids[position]
        if object_id is None:
            return None
        obj = self._objects[object_id]
        if where is not None and not where(obj):
            return None
        return obj

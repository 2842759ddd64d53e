from __future__ import annotations

import asyncio

import pytest

from app.crm.attio.ratelimit import RateLimits, TokenBucket
from app.crm.attio.transport import is_read
from tests.crm.attio.clock import FakeClock


async def test_burst_up_to_capacity_without_waiting() -> None:
    clock = FakeClock()
    bucket = TokenBucket(25, clock=clock, sleep=clock.sleep)
    for _ in range(25):
        await bucket.acquire()
    assert clock.sleeps == []


async def test_waits_for_refill_beyond_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(25, clock=clock, sleep=clock.sleep)
    for _ in range(30):
        await bucket.acquire()
    assert clock.sleeps == pytest.approx([1 / 25] * 5)
    # 30 writes took 0.2 s of (fake) time: never more than 25 in any second plus the burst.
    assert clock.now - 1000.0 == pytest.approx(0.2)


async def test_refills_with_time_but_never_beyond_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        await bucket.acquire()
    clock.advance(0.5)
    assert bucket.available == pytest.approx(50)
    clock.advance(60)
    assert bucket.available == pytest.approx(100)


async def test_sustained_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(25, clock=clock, sleep=clock.sleep)
    for _ in range(25 + 250):
        await bucket.acquire()
    # After the burst, 250 more tokens need 10 s at 25/s.
    assert clock.now - 1000.0 == pytest.approx(10.0)


async def test_concurrent_waiters_are_served_one_by_one() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, clock=clock, sleep=clock.sleep)
    order: list[int] = []

    async def take(i: int) -> None:
        await bucket.acquire()
        order.append(i)

    await asyncio.gather(*(take(i) for i in range(6)))
    assert order == list(range(6))
    assert clock.now - 1000.0 == pytest.approx(2.0)


def test_bad_configuration() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(0.5)


async def test_cannot_acquire_more_than_capacity() -> None:
    with pytest.raises(ValueError):
        await TokenBucket(2).acquire(3)


def test_attio_limits() -> None:
    limits = RateLimits.for_attio()
    assert (limits.read.rate, limits.read.capacity) == (100, 100)
    assert (limits.write.rate, limits.write.capacity) == (25, 25)


@pytest.mark.parametrize(
    ("method", "path", "read"),
    [
        ("GET", "/v2/objects/people", True),
        ("POST", "/v2/objects/people/records/query", True),
        ("POST", "/v2/objects/people/records", False),
        ("PUT", "/v2/objects/x/records", False),
        ("POST", "/v2/objects/x/attributes/status/options", False),
    ],
)
def test_reads_and_writes(method: str, path: str, read: bool) -> None:
    assert is_read(method, path) is read

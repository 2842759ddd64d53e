"""Signed, asynchronous webhook delivery with retries, in event order per endpoint.

One dispatcher per running app (started in its lifespan). Each endpoint with queued events gets
one drain task that delivers the queue head, retrying after each of `retry_delays` on a non-2xx
answer or a connection error, then gives up on that event and moves on. Pausing leaves queues
intact; they drain on resume.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from app.sandbox import events
from app.sandbox.state import DeliveryAttempt, EmulatorState

log = logging.getLogger(__name__)

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(secret: str, payload: str, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`, what `construct_event` checks."""
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class _Job:
    account_id: str
    endpoint_id: str
    event_id: str
    event_type: str


class WebhookDispatcher:
    def __init__(self, state: EmulatorState, client: httpx.AsyncClient,
                 retry_delays: Sequence[float]) -> None:
        self.state = state
        self.client = client
        self.retry_delays = tuple(retry_delays)
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._drains: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._attempts_made: dict[tuple[str, str, str], int] = {}

    def wake_threadsafe(self) -> None:
        """State listener: may be called from any thread."""
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # loop already closed during shutdown
            pass

    async def run(self) -> None:
        self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._start_drains()

    async def aclose(self) -> None:
        tasks = [t for t in self._drains.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start_drains(self) -> None:
        with self.state.lock:
            if self.state.webhooks_paused:
                return
            ready = [
                (account.id, endpoint_id)
                for account in self.state.accounts.values()
                for endpoint_id, queue in account.webhook_queues.items()
                if queue
            ]
        for key in ready:
            task = self._drains.get(key)
            if task is None or task.done():
                task = asyncio.create_task(self._drain(*key))
                task.add_done_callback(lambda _t: self._wake.set())
                self._drains[key] = task

    def _head(self, account_id: str, endpoint_id: str) -> _Job | None:
        with self.state.lock:
            if self.state.webhooks_paused:
                return None
            account = self.state.accounts[account_id]
            queue = account.webhook_queues.get(endpoint_id)
            endpoint = account.webhook_endpoints.get(endpoint_id)
            while queue:
                event = account.events.get(queue[0])
                if event is not None and endpoint is not None and endpoint.status == "enabled":
                    return _Job(account_id, endpoint_id, event.id, event.type)
                self._finish_locked(account_id, endpoint_id, queue[0])
            return None

    async def _drain(self, account_id: str, endpoint_id: str) -> None:
        while True:
            job = self._head(account_id, endpoint_id)
            if job is None:
                return
            if not await self._deliver(job):
                return  # paused part-way: the event stays at the head of the queue
            with self.state.lock:
                self._finish_locked(account_id, endpoint_id, job.event_id)

    def _finish_locked(self, account_id: str, endpoint_id: str, event_id: str) -> None:
        account = self.state.accounts[account_id]
        queue = account.webhook_queues.get(endpoint_id)
        if queue and queue[0] == event_id:
            queue.popleft()
            event = account.events.get(event_id)
            if event is not None and event.pending_webhooks > 0:
                event.pending_webhooks -= 1
        self._attempts_made.pop((account_id, endpoint_id, event_id), None)

    def _payload(self, job: _Job) -> tuple[str, str, str] | None:
        """(url, secret, JSON body) rendered now, or None if the endpoint went away."""
        with self.state.lock:
            if self.state.webhooks_paused:
                return None
            account = self.state.accounts[job.account_id]
            endpoint = account.webhook_endpoints.get(job.endpoint_id)
            event = account.events.get(job.event_id)
            if endpoint is None or event is None or endpoint.status != "enabled":
                return None
            body = events.render(self.state.templates, event, api_version=endpoint.api_version)
            return endpoint.url, endpoint.secret, json.dumps(body, separators=(",", ":"))

    async def _deliver(self, job: _Job) -> bool:
        """True when done with the event (delivered, given up, endpoint gone)."""
        key = (job.account_id, job.endpoint_id, job.event_id)
        total = 1 + len(self.retry_delays)
        while self._attempts_made.get(key, 0) < total:
            target = self._payload(job)
            if target is None:
                with self.state.lock:
                    paused = self.state.webhooks_paused
                return not paused
            url, secret, payload = target
            attempt = self._attempts_made.get(key, 0) + 1
            self._attempts_made[key] = attempt
            status, error = await self._post(url, secret, payload)
            succeeded = status is not None and 200 <= status < 300
            final = succeeded or attempt >= total
            with self.state.lock:
                self.state.deliveries.append(DeliveryAttempt(
                    account_id=job.account_id, endpoint_id=job.endpoint_id, url=url,
                    event_id=job.event_id, event_type=job.event_type, attempt=attempt,
                    status_code=status, error=error, succeeded=succeeded, final=final,
                    time=time.time(),
                ))
            if final:
                return True
            await asyncio.sleep(self.retry_delays[attempt - 1])
        return True

    async def _post(self, url: str, secret: str, payload: str) -> tuple[int | None, str | None]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": signature_header(secret, payload, int(time.time())),
        }
        try:
            response = await self.client.post(url, content=payload.encode("utf-8"),
                                              headers=headers)
        except httpx.HTTPError as error:
            return None, f"{type(error).__name__}: {error}"
        return response.status_code, None

"""Typed async calls to Stripe for one API key, with rate limiting, 429 backoff and error mapping.

Everything leaving this module is a plain dict (`StripeObject.to_dict()`), never an SDK object.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import stripe
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from app.errors import AppError, ErrorCode
from app.ratelimit import TokenBucket
from app.stripe.errors import map_stripe_error

log = logging.getLogger(__name__)
T = TypeVar("T")

API_VERSION: str = stripe.api_version

# Invoice events the service consumes; the webhook endpoint subscribes to exactly these.
INVOICE_EVENTS: tuple[str, ...] = (
    "invoice.created",
    "invoice.updated",
    "invoice.finalized",
    "invoice.sent",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.deleted",
)

CallObserver = Callable[[str, str], None]  # (operation, outcome: "ok" | "rate_limited" | "error")


def _plain(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = obj.to_dict(recursive=True, for_json=True)
    return result


class StripeGateway:
    """All Stripe I/O for one key. Build through `StripeGateways.for_key` (shares the HTTP client)."""

    def __init__(
        self,
        client: stripe.StripeClient,
        limiter: TokenBucket,
        *,
        rate_limit_attempts: int = 6,
        observer: CallObserver | None = None,
    ) -> None:
        self._client = client
        self._limiter = limiter
        self._attempts = rate_limit_attempts
        self._observer = observer

    @property
    def v1(self) -> Any:
        return self._client.v1

    async def call(self, operation: str, action: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run one SDK call: wait for the rate limiter, retry 429s with jittered backoff (the SDK
        retries connection errors and 5xx itself), and map failures to AppError."""
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(stripe.RateLimitError),
                wait=wait_random_exponential(multiplier=0.25, max=8),
                stop=stop_after_attempt(self._attempts),
                reraise=True,
                before_sleep=lambda _s: self._observe(operation, "rate_limited"),
            ):
                with attempt:
                    await self._limiter.acquire()
                    result = await fn()
        except stripe.StripeError as exc:
            self._observe(operation, "error")
            # A 4xx is an answer (the probe expects 404s), not an incident; keep it out of INFO.
            level = logging.DEBUG if exc.http_status and exc.http_status < 500 and exc.http_status != 429 else logging.WARNING
            log.log(level, "stripe call failed", extra={"operation": operation, "error": type(exc).__name__,
                                                        "status": exc.http_status})
            raise map_stripe_error(exc, action) from exc
        self._observe(operation, "ok")
        return result

    def _observe(self, operation: str, outcome: str) -> None:
        if self._observer:
            self._observer(operation, outcome)

    @staticmethod
    def _opts(idempotency_key: str | None) -> dict[str, Any]:
        return {"idempotency_key": idempotency_key} if idempotency_key else {}

    # -- account ----------------------------------------------------------------------------
    async def retrieve_account(self) -> dict[str, Any]:
        return _plain(await self.call("account.retrieve", "reading the Stripe account", lambda: self.v1.accounts.retrieve_current_async()))

    # -- customers --------------------------------------------------------------------------
    async def find_customers_by_email(self, email: str) -> list[dict[str, Any]]:
        page = await self.call(
            "customers.list", "looking up the customer",
            lambda: self.v1.customers.list_async(params={"email": email, "limit": 10}),
        )
        return [_plain(c) for c in page.data]

    async def create_customer(self, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return _plain(await self.call(
            "customers.create", "creating the Stripe customer",
            lambda: self.v1.customers.create_async(params=params, options=self._opts(idempotency_key)),
        ))

    async def update_customer(self, customer_id: str, params: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        return _plain(await self.call(
            "customers.update", "updating the Stripe customer",
            lambda: self.v1.customers.update_async(customer_id, params=params, options=self._opts(idempotency_key)),
        ))

    # -- catalog ----------------------------------------------------------------------------
    async def list_active_prices(self, limit: int = 100) -> list[dict[str, Any]]:
        page = await self.call(
            "prices.list", "reading the price catalog",
            lambda: self.v1.prices.list_async(params={"active": True, "limit": limit, "expand": ["data.product"]}),
        )
        return [_plain(p) for p in page.data]

    async def retrieve_price(self, price_id: str) -> dict[str, Any]:
        return _plain(await self.call("prices.retrieve", "reading the price", lambda: self.v1.prices.retrieve_async(price_id)))

    # -- invoices ---------------------------------------------------------------------------
    async def create_invoice(self, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return _plain(await self.call(
            "invoices.create", "creating the draft invoice",
            lambda: self.v1.invoices.create_async(params=params, options=self._opts(idempotency_key)),
        ))

    async def add_lines(self, invoice_id: str, lines: list[dict[str, Any]], idempotency_key: str) -> dict[str, Any]:
        return _plain(await self.call(
            "invoices.add_lines", "adding the invoice lines",
            lambda: self.v1.invoices.add_lines_async(invoice_id, params={"lines": lines}, options=self._opts(idempotency_key)),
        ))

    async def finalize_invoice(self, invoice_id: str, idempotency_key: str) -> dict[str, Any]:
        return _plain(await self.call(
            "invoices.finalize", "finalizing the invoice",
            lambda: self.v1.invoices.finalize_invoice_async(invoice_id, params={"auto_advance": False}, options=self._opts(idempotency_key)),
        ))

    async def send_invoice(self, invoice_id: str, idempotency_key: str) -> dict[str, Any]:
        return _plain(await self.call(
            "invoices.send", "emailing the invoice",
            lambda: self.v1.invoices.send_invoice_async(invoice_id, options=self._opts(idempotency_key)),
        ))

    async def pay_invoice(self, invoice_id: str, idempotency_key: str, *, paid_out_of_band: bool = True) -> dict[str, Any]:
        return _plain(await self.call(
            "invoices.pay", "marking the invoice paid",
            lambda: self.v1.invoices.pay_async(invoice_id, params={"paid_out_of_band": paid_out_of_band}, options=self._opts(idempotency_key)),
        ))

    async def void_invoice(self, invoice_id: str, idempotency_key: str) -> dict[str, Any]:
        return _plain(await self.call(
            "invoices.void", "voiding the invoice",
            lambda: self.v1.invoices.void_invoice_async(invoice_id, options=self._opts(idempotency_key)),
        ))

    async def mark_uncollectible(self, invoice_id: str, idempotency_key: str) -> dict[str, Any]:
        return _plain(await self.call(
            "invoices.mark_uncollectible", "marking the invoice uncollectible",
            lambda: self.v1.invoices.mark_uncollectible_async(invoice_id, options=self._opts(idempotency_key)),
        ))

    async def delete_draft(self, invoice_id: str) -> None:
        await self.call("invoices.delete", "deleting the draft invoice", lambda: self.v1.invoices.delete_async(invoice_id))

    async def retrieve_invoice(self, invoice_id: str) -> dict[str, Any]:
        return _plain(await self.call("invoices.retrieve", "reading the invoice", lambda: self.v1.invoices.retrieve_async(invoice_id)))

    async def list_invoices(self, *, limit: int = 100, starting_after: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        params: dict[str, Any] = {"limit": limit}
        if starting_after:
            params["starting_after"] = starting_after
        return await self._raw_page("invoices.list", "listing invoices", "/v1/invoices", params)

    async def _raw_page(self, operation: str, action: str, path: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """A list page as plain JSON. Building the SDK's objects for 100 invoices and turning them
        back into dicts costs ~130 ms of CPU per page (half of a backfill's time); the same
        request through `raw_request` keeps the SDK's auth, retries and error classes."""
        response = await self.call(operation, action, lambda: self._client.raw_request_async("get", path, **params))
        body: dict[str, Any] = response.data
        return list(body["data"]), bool(body["has_more"])

    # -- webhooks and events ----------------------------------------------------------------
    async def create_webhook_endpoint(self, url: str, events: tuple[str, ...], metadata: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        params = {"url": url, "enabled_events": list(events), "api_version": API_VERSION, "metadata": metadata,
                  "description": "Stripe Invoicing for the CRM"}
        return _plain(await self.call(
            "webhook_endpoints.create", "registering the webhook endpoint",
            lambda: self.v1.webhook_endpoints.create_async(params=params, options=self._opts(idempotency_key)),
        ))

    async def delete_webhook_endpoint(self, endpoint_id: str) -> bool:
        """True when deleted, False when Stripe no longer had it (both mean: gone)."""
        try:
            await self.call("webhook_endpoints.delete", "removing the webhook endpoint",
                            lambda: self.v1.webhook_endpoints.delete_async(endpoint_id))
        except AppError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return False
            raise
        return True

    async def list_events(self, *, types: tuple[str, ...], created_gte: int | None, starting_after: str | None, limit: int = 100) -> tuple[list[dict[str, Any]], bool]:
        params: dict[str, Any] = {"limit": limit, "types": list(types)}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after:
            params["starting_after"] = starting_after
        return await self._raw_page("events.list", "reading Stripe events", "/v1/events", params)

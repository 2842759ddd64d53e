"""Builds `StripeGateway`s: one shared HTTP client, one rate limiter per key."""

from __future__ import annotations

import hashlib

import stripe

from app.ratelimit import TokenBucket
from app.stripe.gateway import API_VERSION, CallObserver, StripeGateway


def is_live_key(key: str) -> bool:
    return key.startswith(("sk_live_", "rk_live_"))


class StripeGateways:
    def __init__(
        self,
        *,
        api_base: str | None,
        max_network_retries: int,
        rate_sandbox: float,
        rate_live: float,
        observer: CallObserver | None = None,
    ) -> None:
        self._api_base = api_base
        self._retries = max_network_retries
        self._rates = (rate_sandbox, rate_live)
        self._observer = observer
        self._http = stripe.HTTPXClient(timeout=30)
        self._limiters: dict[str, TokenBucket] = {}

    def for_key(self, key: str) -> StripeGateway:
        fingerprint = hashlib.sha256(key.encode()).hexdigest()
        limiter = self._limiters.get(fingerprint)
        if limiter is None:
            limiter = self._limiters[fingerprint] = TokenBucket(self._rates[1] if is_live_key(key) else self._rates[0])
        client = stripe.StripeClient(
            key,
            stripe_version=API_VERSION,
            base_addresses={"api": self._api_base} if self._api_base else None,
            http_client=self._http,
            max_network_retries=self._retries,
        )
        return StripeGateway(client, limiter, observer=self._observer)

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

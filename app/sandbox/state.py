"""All emulator data, in memory, per account; id generation; the Python-level control API.

Concurrency: request handlers run their whole read-validate-mutate step synchronously (no
`await` inside) while holding `state.lock`, so the event loop can never interleave two
mutations, and the in-process control API, which tests call from another thread than the
server's, takes the same lock. A `threading.RLock` rather than an `asyncio.Lock` because of
that second thread; it is never held across an `await`.
"""

from __future__ import annotations

import base64
import random
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from app.sandbox.faults import FaultConfig, FaultInjector
from app.sandbox.models import Access, Account, ApiKey, KeyKind
from app.sandbox.templates import Templates

DEFAULT_API_VERSION = "2026-10-28.endive"
BASE62 = string.digits + string.ascii_letters
_B64_TO_BASE62 = bytes.maketrans(b"+/=", b"xQ7")
ID_LENGTH = 24
RESOURCES = (
    "customers", "products", "prices", "invoices", "invoiceitems", "webhook_endpoints", "events",
)
ACCESS_LEVELS: tuple[Access, ...] = ("none", "read", "write")
IDEMPOTENCY_KEYS_KEPT = 200_000


def _access(resource: str, value: str) -> Access:
    for level in ACCESS_LEVELS:
        if value == level:
            return level
    raise ValueError(f"access for {resource!r} must be one of none, read, write")


@dataclass(frozen=True)
class AccountKeys:
    account_id: str
    secret_key: str


@dataclass(frozen=True)
class RequestLogEntry:
    request_id: str
    account_id: str | None
    method: str
    path: str
    status: int
    idempotency_key: str | None
    idempotent_replayed: bool
    time: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DeliveryAttempt:
    account_id: str
    endpoint_id: str
    url: str
    event_id: str
    event_type: str
    attempt: int
    status_code: int | None
    error: str | None
    succeeded: bool
    final: bool  # delivered, or the last attempt before giving up
    time: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class EmulatorState:
    """The emulator's whole world. Safe to share between one app and test code in other threads."""

    def __init__(self, *, public_url: str | None = None, id_seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.templates = Templates.load()
        self.public_url = public_url.rstrip("/") if public_url else None
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, ApiKey] = {}
        self.invoice_accounts: dict[str, str] = {}  # invoice id -> account id (hosted pages)
        self.faults = FaultInjector()
        self.rate_limit_per_second: float | None = None
        self.request_log: deque[RequestLogEntry] = deque(maxlen=500_000)
        self.deliveries: deque[DeliveryAttempt] = deque(maxlen=200_000)
        self.webhooks_paused = False
        self._listeners: list[Callable[[], None]] = []
        self._ids = random.Random(id_seed)

    # ids and time -------------------------------------------------------------------------

    def new_id(self, prefix: str, length: int = ID_LENGTH) -> str:
        """`prefix` + `length` letters and digits (fast enough for bulk creation)."""
        raw = base64.b64encode(self._ids.randbytes(length * 3 // 4 + 3))
        return prefix + raw.translate(_B64_TO_BASE62)[:length].decode("ascii")

    def new_code(self, length: int = 8) -> str:
        """Upper-case letters and digits: invoice number prefixes."""
        return "".join(self._ids.choices(string.ascii_uppercase + string.digits, k=length))

    @staticmethod
    def now() -> int:
        return int(time.time())

    # change notification (webhook delivery listens) --------------------------------------

    def add_listener(self, callback: Callable[[], None]) -> None:
        with self.lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        with self.lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    # accounts and keys --------------------------------------------------------------------

    def account(self, account_id: str) -> Account:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise KeyError(f"no such account: {account_id}") from None

    def create_account(self, *, livemode: bool = False) -> AccountKeys:
        """A new account and its secret key (`sk_live_` when `livemode`)."""
        with self.lock:
            account = Account(
                id=self.new_id("acct_", 16),
                livemode=livemode,
                created=self.now(),
                api_version=DEFAULT_API_VERSION,
                invoice_prefix=self.new_code(),
            )
            self.accounts[account.id] = account
            key = self._issue_key(account.id, "secret", livemode, {})
            return AccountKeys(account_id=account.id, secret_key=key)

    def create_restricted_key(
        self, account_id: str, permissions: Mapping[str, str], *, livemode: bool | None = None
    ) -> str:
        """An `rk_` key; resources not named get "none"."""
        with self.lock:
            account = self.account(account_id)
            granted: dict[str, Access] = {resource: "none" for resource in RESOURCES}
            for resource, access in permissions.items():
                if resource not in RESOURCES:
                    raise ValueError(f"unknown resource {resource!r}; known: {', '.join(RESOURCES)}")
                granted[resource] = _access(resource, access)
            mode = account.livemode if livemode is None else livemode
            return self._issue_key(account.id, "restricted", mode, granted)

    def create_secret_key(self, account_id: str, *, livemode: bool | None = None) -> str:
        with self.lock:
            account = self.account(account_id)
            mode = account.livemode if livemode is None else livemode
            return self._issue_key(account.id, "secret", mode, {})

    def _issue_key(
        self, account_id: str, kind: KeyKind, livemode: bool, permissions: dict[str, Access]
    ) -> str:
        prefix = ("sk_" if kind == "secret" else "rk_") + ("live_" if livemode else "test_")
        key = prefix + "51" + secrets.token_urlsafe(40).replace("-", "x").replace("_", "y")
        self.keys[key] = ApiKey(key, account_id, kind, livemode, permissions)
        return key

    def revoke_key(self, key: str) -> None:
        with self.lock:
            if key not in self.keys:
                raise KeyError("no such key")
            self.keys[key].revoked = True

    # faults, rate limit, logs -------------------------------------------------------------

    def set_faults(self, config: FaultConfig | None = None, **settings: Any) -> None:
        """`set_faults(rate_429=0.5, seed=1)` or `set_faults(FaultConfig(...))`."""
        with self.lock:
            self.faults.configure(config if config is not None else FaultConfig(**settings))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.configure(None)

    def set_rate_limit(self, per_second: float | None) -> None:
        with self.lock:
            self.rate_limit_per_second = per_second

    def log_request(self, entry: RequestLogEntry) -> None:
        self.request_log.append(entry)

    def requests(self, account_id: str | None = None) -> list[RequestLogEntry]:
        with self.lock:
            return [e for e in self.request_log if account_id is None or e.account_id == account_id]

    def clear_requests(self, account_id: str | None = None) -> None:
        with self.lock:
            if account_id is None:
                self.request_log.clear()
                return
            kept = [e for e in self.request_log if e.account_id != account_id]
            self.request_log.clear()
            self.request_log.extend(kept)

    def delivery_attempts(self, account_id: str | None = None) -> list[DeliveryAttempt]:
        with self.lock:
            return [d for d in self.deliveries if account_id is None or d.account_id == account_id]

    def set_webhooks_paused(self, paused: bool) -> None:
        with self.lock:
            self.webhooks_paused = paused
        self.notify()

    # whole-account operations (also served by the admin API) -------------------------------

    def fail_invoice_payment(self, invoice_id: str) -> dict[str, Any]:
        """Simulate a failed charge: `attempt_count` + 1 and an `invoice.payment_failed` event."""
        from app.sandbox.invoice_actions import record_failed_payment

        with self.lock:
            account = self.account(self.invoice_accounts[invoice_id])
            invoice = record_failed_payment(self, account, invoice_id)
        self.notify()
        return invoice

    def bulk_invoices(
        self,
        account_id: str,
        count: int,
        *,
        customers: int = 1,
        statuses: Iterable[str] | Mapping[str, float] | None = None,
        currency: str = "usd",
        base_url: str | None = None,
    ) -> dict[str, Any]:
        """Many finalized invoices at once, without events (backfill benchmarks)."""
        from app.sandbox.bulk import create_bulk_invoices

        with self.lock:
            return create_bulk_invoices(
                self, self.account(account_id), count, customers=customers,
                statuses=statuses, currency=currency, base_url=base_url,
            )

    def summary(self, account_id: str) -> dict[str, Any]:
        from app.sandbox.bulk import account_summary

        with self.lock:
            return account_summary(self.account(account_id))

"""API keys: who is calling (401) and may they (403), checked before any lookup or validation."""

from __future__ import annotations

import base64
import binascii

from app.sandbox.errors import StripeError
from app.sandbox.models import Access, Account, ApiKey
from app.sandbox.state import EmulatorState

# resource -> the stem of Stripe's permission names ("rak_invoice_write")
PERMISSION_STEMS = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "invoices": "invoice",
    "invoiceitems": "invoiceitem",
    "webhook_endpoints": "webhook",
    "events": "event",
}
_KNOWN_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_")


def permission_name(resource: str, access: Access) -> str:
    return f"rak_{PERMISSION_STEMS[resource]}_{access}"


def mask_key(key: str) -> str:
    """As Stripe prints keys in errors: the prefix and the last four characters."""
    prefix = next((p for p in _KNOWN_PREFIXES if key.startswith(p)), "")
    hidden = max(len(key) - len(prefix) - 4, 0)
    return prefix + "*" * hidden + key[len(prefix) + hidden :]


def bearer_key(authorization: str | None) -> str | None:
    """`Bearer <key>`, or Basic auth with the key as user name (curl -u sk_test_...:)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    return None


def authenticate(state: EmulatorState, key: str | None) -> tuple[ApiKey, Account]:
    if key is None:
        raise StripeError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
            "or we can help at https://support.stripe.com/.",
        )
    api_key = state.keys.get(key)
    if api_key is None or api_key.revoked or api_key.account_id not in state.accounts:
        raise StripeError(401, f"Invalid API Key provided: {mask_key(key)}")
    return api_key, state.accounts[api_key.account_id]


def authorize(api_key: ApiKey, account: Account, resource: str | None, access: Access) -> None:
    """Secret keys may do anything; restricted keys need `access` on `resource` (write > read)."""
    if resource is None or api_key.kind == "secret":
        return
    granted = api_key.permissions.get(resource, "none")
    if granted == "write" or (granted == "read" and access == "read"):
        return
    raise StripeError(
        403,
        f"The provided key '{mask_key(api_key.key)}' does not have the required permissions "
        f"for this endpoint on account '{account.id}'. Having the "
        f"'{permission_name(resource, access)}' permission would allow this request to continue.",
    )

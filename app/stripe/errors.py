"""Stripe SDK exceptions -> our AppError, with messages a user understands."""

from __future__ import annotations

import re

import stripe

from app.errors import AppError, ErrorCode

_RAK = re.compile(r"'rak_([a-z_]+?)_(read|write)'")

# Stripe's restricted-key permission names -> the scope names shown in its dashboard.
RESOURCE_TITLES: dict[str, str] = {
    "customer": "Customers",
    "product": "Products",
    "price": "Prices",
    "plan": "Prices",
    "invoice": "Invoices",
    "invoiceitem": "Invoice items",
    "invoice_item": "Invoice items",
    "webhook": "Webhook endpoints",
    "webhook_endpoint": "Webhook endpoints",
    "event": "Events",
}


def permission_from_message(message: str) -> str | None:
    """"Having the 'rak_invoice_write' permission would allow..." -> "Invoices: write"."""
    match = _RAK.search(message or "")
    if not match:
        return None
    resource, level = match.groups()
    return f"{RESOURCE_TITLES.get(resource, resource.replace('_', ' ').title())}: {level}"


def map_stripe_error(exc: stripe.StripeError, action: str) -> AppError:
    """`action` says what we were doing, in words: "creating the invoice"."""
    detail = f"{type(exc).__name__} while {action}: {exc.user_message or exc}"
    if isinstance(exc, stripe.AuthenticationError):
        return AppError(
            ErrorCode.STRIPE_KEY_INVALID,
            "Stripe rejected the API key (invalid or revoked). Reconnect with a valid key.",
            detail=detail,
        )
    if isinstance(exc, stripe.PermissionError):
        scope = permission_from_message(str(exc.user_message or ""))
        what = f"'{scope}'" if scope else "a permission"
        return AppError(
            ErrorCode.STRIPE_PERMISSION,
            f"The Stripe key is missing permission {what}, needed for {action}.",
            fields={"missing_permission": scope or "unknown"},
            detail=detail,
        )
    if isinstance(exc, stripe.RateLimitError):
        return AppError(ErrorCode.STRIPE_RATE_LIMITED, f"Stripe is rate limiting requests; {action} can be retried shortly.", detail=detail)
    if isinstance(exc, (stripe.APIConnectionError, stripe.APIError)):
        return AppError(ErrorCode.STRIPE_UNAVAILABLE, f"Stripe could not be reached while {action}; try again.", detail=detail)
    if isinstance(exc, stripe.IdempotencyError):
        return AppError(ErrorCode.CONFLICT, f"A conflicting request is already in flight while {action}.", detail=detail)
    message = exc.user_message or str(exc) or "request refused"
    if isinstance(exc, stripe.InvalidRequestError) and exc.http_status == 404:
        return AppError(ErrorCode.NOT_FOUND, f"Stripe says: {message}", detail=detail)
    fields = {"stripe_param": exc.param} if isinstance(exc, stripe.InvalidRequestError) and exc.param else {}
    return AppError(ErrorCode.STRIPE_INVALID_REQUEST, f"Stripe refused {action}: {message}", fields=fields, detail=detail)

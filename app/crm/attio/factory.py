"""Building the Attio adapter for a workspace from the `AppContext`.

Every adapter shares the context's HTTP client (one connection pool) and one pair of rate-limit
buckets for the token, kept in `ctx.caches` under this module's name.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from app.config import Settings
from app.crm.attio.adapter import AttioCRM
from app.crm.attio.ratelimit import RateLimits
from app.crm.attio.transport import AttioTransport
from app.errors import AppError, ErrorCode

DEFAULT_MAIN_CONTACT_ATTRIBUTE = "main_contact"


class AttioHost(Protocol):
    """What the factory needs of the `AppContext`."""

    settings: Settings
    http: httpx.AsyncClient
    caches: dict[str, Any]


def rate_limits(ctx: AttioHost) -> RateLimits:
    limits = ctx.caches.get(__name__)
    if not isinstance(limits, RateLimits):
        limits = RateLimits.for_attio()
        ctx.caches[__name__] = limits
    return limits


def attio_crm_for(ctx: AttioHost, workspace_id: str) -> AttioCRM:
    """The adapter for a workspace. One ATTIO_API_TOKEN serves the deployment, so every workspace
    reaches the same Attio workspace; `workspace_id` is accepted for symmetry with `local`."""
    del workspace_id
    token = ctx.settings.attio_api_token
    if token is None:
        raise AppError(ErrorCode.CRM_INVALID_REQUEST, "CRM_BACKEND=attio needs ATTIO_API_TOKEN.")
    transport = AttioTransport(
        ctx.http,
        token.get_secret_value(),
        base_url=ctx.settings.attio_api_base,
        limits=rate_limits(ctx),
    )
    return AttioCRM(transport, main_contact_attribute=DEFAULT_MAIN_CONTACT_ATTRIBUTE)

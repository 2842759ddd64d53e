"""The Attio REST v2 adapter: `AttioCRM(AttioTransport(client, token))`."""

from app.crm.attio.adapter import AttioCRM
from app.crm.attio.ratelimit import RateLimits, TokenBucket
from app.crm.attio.transport import AttioError, AttioTransport

__all__ = ["AttioCRM", "AttioError", "AttioTransport", "RateLimits", "TokenBucket"]

"""`GET /v1/account`: allowed for every valid key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.sandbox.api import ApiContext


def retrieve(ctx: ApiContext) -> dict[str, Any]:
    ctx.form.only(())
    account = ctx.account
    template = ctx.templates.account
    return {
        **template,
        "business_profile": {**template["business_profile"], "name": "Stripe emulator"},
        "business_type": "company",
        "charges_enabled": True,
        "country": "US",
        "created": account.created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": f"owner+{account.id.lower()}@example.com",
        "external_accounts": {"data": [], "has_more": False, "object": "list",
                              "url": f"/v1/accounts/{account.id}/external_accounts"},
        "id": account.id,
        "metadata": {},
        "object": "account",
        "payouts_enabled": True,
        "settings": {**template["settings"],
                     "dashboard": {"display_name": "Stripe emulator", "timezone": "Etc/UTC"}},
        "type": "standard",
    }

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings, load_settings
from app.crm.attio.adapter import AttioCRM
from app.crm.attio.factory import attio_crm_for, rate_limits
from app.errors import AppError, ErrorCode
from tests.crm.attio import canned
from tests.crm.attio.canned_server import CannedAttio


@dataclass
class Ctx:
    settings: Settings
    http: httpx.AsyncClient
    caches: dict[str, Any] = field(default_factory=dict)


async def test_adapter_from_context_shares_limits_and_client() -> None:
    server = CannedAttio()
    server.on("GET", "/v2/objects/people", (200, {"data": canned.object_json("people", "Person", "People")}))
    async with server.client() as http:
        ctx = Ctx(load_settings(attio_api_token=SecretStr("tok-123"), attio_api_base="https://api.attio.com"), http)
        crm = attio_crm_for(ctx, "ws_1")
        assert isinstance(crm, AttioCRM)
        assert rate_limits(ctx) is rate_limits(ctx)
        people = await crm.get_object("people")
        assert people is not None and people.slug == "people"


async def test_needs_a_token() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(AppError) as info:
            attio_crm_for(Ctx(load_settings(attio_api_token=None), http), "ws_1")
    assert info.value.code is ErrorCode.CRM_INVALID_REQUEST

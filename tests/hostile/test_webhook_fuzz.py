"""POST /webhooks/stripe/{workspace_id} under hostile input: never a 5xx, and a refusal stores
nothing (rows in `stripe_events` are counted before and after every request)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from app.connection.service import connect
from app.context import AppContext
from app.http.app import build_app
from app.store.workspaces import create_workspace
from tests.hostile.asgi_raw import raw_request
from tests.hostile.support import sign, stored_events, webhook_secret

MB = 1024 * 1024


@dataclass
class Hook:
    ctx: AppContext
    app: Starlette
    client: httpx.AsyncClient
    ws: str
    secret: str
    other_ws: str
    other_secret: str

    async def post(self, body: bytes, signature: str | None, *, ws: str | None = None,
                   content_type: str | None = "application/json") -> httpx.Response:
        headers: dict[bytes, bytes] = {}  # bytes: a hostile header need not be ASCII (latin-1 on the wire)
        if content_type is not None:
            headers[b"Content-Type"] = content_type.encode("latin-1")
        if signature is not None:
            headers[b"Stripe-Signature"] = signature.encode("latin-1")
        return await self.client.post(f"/webhooks/stripe/{ws or self.ws}", content=body, headers=headers)

    async def raw(self, headers: list[tuple[bytes, bytes]], chunks: list[bytes], *, disconnect: bool = False) -> Any:
        return await raw_request(self.app, "POST", f"/webhooks/stripe/{self.ws}", headers, chunks,
                                 disconnect=disconnect)


@pytest.fixture
async def hook(sctx: AppContext, emulator: Any) -> AsyncIterator[Hook]:
    """Two workspaces connected to their own emulator accounts, each with a registered webhook."""
    ids: list[tuple[str, str]] = []
    for name in ("Hooked", "Other"):
        ws = await create_workspace(sctx.store, name)
        _, key = emulator.new_account()
        await connect(sctx, ws.workspace_id, key, "sandbox")
        ids.append((ws.workspace_id, await webhook_secret(sctx, ws.workspace_id)))
    app = build_app(sctx, manage_context=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Hook(sctx, app, client, ids[0][0], ids[0][1], ids[1][0], ids[1][1])


def event(event_id: str = "evt_fuzz_1", **overrides: Any) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": "invoice.paid", "api_version": "2026-10-28.endive",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "data": {"object": {"id": "in_fuzz", "object": "invoice", "status": "paid"}}, **overrides}


def assert_refused(response: Any, status: int | tuple[int, ...] = 400) -> None:
    code = response.status_code if hasattr(response, "status_code") else response.status
    allowed = (status,) if isinstance(status, int) else status
    assert code in allowed, (code, getattr(response, "text", getattr(response, "body", b""))[:300])
    body = response.json() if hasattr(response, "json") else json.loads(response.body)
    assert body["error"]["code"] and body["error"]["message"]


async def test_bad_signatures_are_400_and_store_nothing(hook: Hook) -> None:
    body = json.dumps(event()).encode()
    now = int(time.time())
    good = sign(body, hook.secret, now)
    mac = good.split("v1=")[1]
    cases: dict[str, str | None] = {
        "missing": None,
        "empty": "",
        "garbage": "hello",
        "no timestamp": f"v1={mac}",
        "timestamp not a number": f"t=abc,v1={mac}",
        "timestamp overflow": f"t={'9' * 400},v1={mac}",
        "no v1": f"t={now}",
        "only v0": f"t={now},v0={mac}",
        "wrong secret": sign(body, "whsec_" + "x" * 32, now),
        "another workspace's secret": sign(body, hook.other_secret, now),
        "stale timestamp (301 s)": sign(body, hook.secret, now - 301),
        "stale replay of a real delivery (1 day)": sign(body, hook.secret, now - 86400),
        "signature of a different body": sign(body + b" ", hook.secret, now),
        "mac truncated": f"t={now},v1={mac[:-1]}",
        "mac upper-cased": f"t={now},v1={mac.upper()}",
        "non-ASCII mac": f"t={now},v1={mac[:-1]}\u00e9",
        "non-ASCII everywhere": "t=\u00ff\u00fe,v1=\u00e9\u00e8",
        "huge header": f"t={now}," + ",".join(f"v1={i:064x}" for i in range(200)),
    }
    for name, signature in cases.items():
        response = await hook.post(body, signature)
        assert response.status_code == 400, (name, response.status_code, response.text)
        assert response.json()["error"]["code"] == "webhook_signature_invalid", name
    assert await stored_events(hook.ctx) == 0


async def test_a_valid_signature_among_several_is_accepted(hook: Hook) -> None:
    """Stripe sends one v1 per active secret while a secret is rolled; any one may match."""
    body = json.dumps(event("evt_rolled")).encode()
    now = int(time.time())
    good = sign(body, hook.secret, now).split("v1=")[1]
    response = await hook.post(body, f"t={now},v1={'0' * 64},v0=abc,v1={good}")
    assert response.status_code == 200, response.text
    assert await stored_events(hook.ctx, hook.ws) == 1


async def test_another_workspaces_secret_only_opens_its_own_door(hook: Hook) -> None:
    body = json.dumps(event("evt_cross")).encode()
    signed_for_other = sign(body, hook.other_secret)
    assert_refused(await hook.post(body, signed_for_other))
    assert await stored_events(hook.ctx) == 0
    response = await hook.post(body, signed_for_other, ws=hook.other_ws)
    assert response.status_code == 200, response.text
    assert (await stored_events(hook.ctx, hook.other_ws), await stored_events(hook.ctx, hook.ws)) == (1, 0)


async def test_unknown_or_malformed_workspace_ids_are_404(hook: Hook) -> None:
    body = json.dumps(event()).encode()
    for ws in ("ws_unknown", "x" * 500, "%00", "..", "ws_" + "\u00e9" * 10):
        response = await hook.post(body, sign(body, hook.secret), ws=ws)
        assert response.status_code == 404, (ws, response.status_code, response.text)
    assert await stored_events(hook.ctx) == 0


async def test_replayed_event_is_stored_once(hook: Hook) -> None:
    body = json.dumps(event("evt_replayed")).encode()
    first = await hook.post(body, sign(body, hook.secret))
    again = await hook.post(body, sign(body, hook.secret))  # Stripe's retry: same body, new timestamp
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    # The same event id with another body (signed: only Stripe could send it) is still a no-op.
    altered = json.dumps(event("evt_replayed", type="invoice.voided")).encode()
    third = await hook.post(altered, sign(altered, hook.secret))
    assert third.status_code == 200 and third.json()["duplicate"] is True
    assert await stored_events(hook.ctx, hook.ws) == 1


async def test_truncated_bodies_are_refused(hook: Hook) -> None:
    body = json.dumps(event("evt_truncated")).encode()
    now = int(time.time())
    for cut in (0, 1, len(body) // 2, len(body) - 1):
        part = body[:cut]
        # signed for the whole body, delivered cut short
        assert_refused(await hook.post(part, sign(body, hook.secret, now)))
        # signed for what arrived: authentic but not a whole JSON event
        assert_refused(await hook.post(part, sign(part, hook.secret, now)))
    # the connection drops mid-body
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"stripe-signature", sign(body, hook.secret, now).encode())]
    dropped = await hook.raw(headers, [body[: len(body) // 2]], disconnect=True)
    assert dropped.status < 500, dropped
    assert await stored_events(hook.ctx) == 0


async def test_huge_bodies_are_413_however_they_arrive(hook: Hook) -> None:
    big = b'{"id": "evt_huge", "type": "invoice.paid", "pad": "' + b"a" * (MB + 10) + b'"}'
    signature = sign(big, hook.secret).encode()
    base = [(b"content-type", b"application/json"), (b"stripe-signature", signature)]
    chunks = [big[i:i + 65536] for i in range(0, len(big), 65536)]
    cases = {
        "declared length": (base + [(b"content-length", str(len(big)).encode())], chunks),
        "chunked, no length": (base + [(b"transfer-encoding", b"chunked")], chunks),
        "no length at all": (base, chunks),
        "declared length lies (small)": (base + [(b"content-length", b"10")], chunks),
        "declared length absurd": (base + [(b"content-length", b"9" * 40)], [b"{}"]),
    }
    for name, (headers, body) in cases.items():
        response = await hook.raw(headers, body)
        assert response.status == 413, (name, response.status, response.body[:200])
        assert json.loads(response.body)["error"]["code"] == "body_too_large"
    response = await hook.post(big, signature.decode())  # through an ordinary HTTP client too
    assert response.status_code == 413
    assert await stored_events(hook.ctx) == 0


async def test_wrong_content_types(hook: Hook) -> None:
    """Stripe always sends JSON; the signature covers the raw bytes whatever the header says. An
    unsigned or badly signed body is refused (and not stored) under every content type; a body
    Stripe signed is judged by its bytes, so it is accepted once."""
    body = json.dumps(event("evt_ctype")).encode()
    types = [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
             "application/xml", "application/json; charset=latin-1", "\u00e9/\u00e8", "a" * 5000]
    for content_type in types:
        assert_refused(await hook.post(body, sign(body, "whsec_wrong"), content_type=content_type))
        form = b"id=evt_form&type=invoice.paid"
        assert_refused(await hook.post(form, sign(form, hook.secret), content_type=content_type))
    assert await stored_events(hook.ctx) == 0
    statuses = [(await hook.post(body, sign(body, hook.secret), content_type=t)).status_code for t in types]
    assert set(statuses) == {200}
    assert await stored_events(hook.ctx, hook.ws) == 1


async def test_signed_bodies_that_are_not_events_are_refused(hook: Hook) -> None:
    """Authentic (correctly signed) but malformed: a clear 4xx, nothing stored. A leaked secret or
    a confused sender must not be able to 500 the intake or write junk rows."""
    now = int(time.time())
    bodies: list[bytes] = [
        b"", b" ", b"null", b"[]", b'"evt"', b"1e999", b"NaN", b"{}", b"\xff\xfe", b"\x00" * 10,
        "{\"id\": \"\ud800\"}".encode("utf-8", "surrogatepass"),
        json.dumps({"id": 1, "type": "invoice.paid"}).encode(),
        json.dumps({"id": "evt_x", "type": ["invoice.paid"]}).encode(),
        json.dumps(event("evt_created_str", created="yesterday")).encode(),
        json.dumps(event("evt_created_list", created=[1])).encode(),
        json.dumps(event("evt_created_float", created=1e300)).encode(),
        json.dumps(event("evt_created_big", created=10**30)).encode(),
        json.dumps(event("evt_created_neg", created=-1)).encode(),
        b'{"id": "evt_created_inf", "type": "invoice.paid", "created": Infinity}',
        b'{"id": "evt_created_nan", "type": "invoice.paid", "created": NaN}',
        json.dumps(event("evt_data_str", data="invoice")).encode(),
        json.dumps(event("evt_data_list", data=[{"object": {}}])).encode(),
        json.dumps(event("x" * 5000)).encode(),
        json.dumps(event("evt_long_type", type="t" * 5000)).encode(),
        json.dumps(event("evt_long_object", data={"object": {"id": "in_" + "x" * 5000}})).encode(),
        b"[" * 100_000,  # deeply nested: the JSON parser's recursion limit
    ]
    for body in bodies:
        response = await hook.post(body, sign(body, hook.secret, now))
        assert 400 <= response.status_code < 500, (body[:80], response.status_code, response.text[:300])
    assert await stored_events(hook.ctx) == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
event_like = st.fixed_dictionaries(
    {},
    optional={"id": st.text(max_size=30) | json_values, "type": st.text(max_size=30) | json_values,
              "created": st.integers() | st.floats() | json_values, "data": json_values,
              "object": st.just("event") | json_values},
)
bodies = st.one_of(
    st.binary(max_size=300),
    event_like.map(lambda e: json.dumps(e).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "60")), deadline=None, database=None,
          derandomize=os.environ.get("HOSTILE_RANDOM") != "1",
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies, signed=st.sampled_from(["valid", "wrong-secret", "stale", "none", "mangled"]))
async def test_random_bodies_never_5xx(hook: Hook, body: bytes, signed: str) -> None:
    before = await stored_events(hook.ctx)
    now = int(time.time())
    signature = {
        "valid": sign(body, hook.secret, now), "wrong-secret": sign(body, hook.other_secret, now),
        "stale": sign(body, hook.secret, now - 1000), "none": None,
        "mangled": sign(body, hook.secret, now)[:-3] + "\u00e9zz",
    }[signed]
    response = await hook.post(body, signature)
    assert response.status_code < 500, (body[:100], signed, response.status_code, response.text[:300])
    after = await stored_events(hook.ctx)
    if signed != "valid":
        assert response.status_code == 400 and after == before
    elif response.status_code >= 400:
        assert after == before
    else:
        assert after - before == (0 if response.json()["duplicate"] else 1)

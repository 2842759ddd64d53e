"""Page sessions: the token exchange sets an HttpOnly SameSite cookie, state-changing calls made
with the cookie need the CSRF header, and launch URLs work once signed and stop after five minutes."""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner

from app.store.workspaces import CreatedWorkspace
from app.web import session
from tests.conftest import bearer
from tests.web.support import page_csrf, sign_in


async def test_login_exchange_sets_an_httponly_samesite_cookie(client: httpx.AsyncClient,
                                                               workspace: CreatedWorkspace) -> None:
    response = await client.get(f"/login?{urlencode({'token': workspace.admin_token, 'next': '/settings'})}")
    assert response.status_code == 303
    assert response.headers["location"] == "/settings"  # the token leaves the address bar
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("invoicing_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert workspace.admin_token.lower() not in cookie

    page = await client.get("/settings")
    assert page.status_code == 200 and "Stripe connection" in page.text
    assert workspace.admin_token not in page.text


async def test_login_form_and_a_bad_token(client: httpx.AsyncClient, workspace: CreatedWorkspace) -> None:
    bad = await client.post("/login", data={"token": "nope", "next": "/settings"})
    assert bad.status_code == 401 and "That token is not valid." in bad.text
    assert (await client.get("/settings")).status_code == 303  # still signed out

    for unsafe in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "/crm\n"):
        good = await client.post("/login", data={"token": workspace.operator_token, "next": unsafe})
        assert good.status_code == 303 and good.headers["location"] == "/crm", unsafe  # unsafe next ignored


async def test_state_changing_calls_need_the_csrf_header(client: httpx.AsyncClient,
                                                         workspace: CreatedWorkspace) -> None:
    await sign_in(client, workspace.admin_token, "/settings")
    before = await client.get("/api/settings")  # reads need no CSRF token
    assert before.status_code == 200
    wanted = not before.json()["auto_create_people"]

    missing = await client.patch("/api/settings", json={"auto_create_people": wanted})
    assert missing.status_code == 403
    assert missing.json()["error"]["code"] == "forbidden" and "CSRF" in missing.json()["error"]["message"]
    wrong = await client.patch("/api/settings", json={"auto_create_people": wanted}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    for method, path in (("DELETE", "/api/connection"), ("POST", "/api/schema/setup"),
                         ("POST", "/api/actions/sync-invoices"), ("POST", "/settings/reconnect")):
        refused = await client.request(method, path)
        assert refused.status_code == 403, (method, path, refused.text)
    assert (await client.get("/api/settings")).json()["auto_create_people"] is not wanted  # nothing changed

    csrf = await page_csrf(client)
    ok = await client.patch("/api/settings", json={"auto_create_people": wanted}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["auto_create_people"] is wanted


async def test_launch_url_opens_a_session_and_expires(client: httpx.AsyncClient, workspace: CreatedWorkspace,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    made = await client.post("/api/launch-url", json={"next": "/crm/people"}, headers=bearer(workspace.operator_token))
    assert made.status_code == 200 and made.json()["expires_in"] == session.LAUNCH_MAX_AGE_S
    parts = urlsplit(made.json()["url"])
    launch = f"{parts.path}?{parts.query}"

    opened = await client.get(launch)
    assert opened.status_code == 303 and opened.headers["location"] == "/crm/people"
    assert "httponly" in opened.headers["set-cookie"].lower()
    assert (await client.get("/crm/people")).status_code == 200  # signed in as the operator
    assert (await client.get("/settings")).status_code == 403

    tampered = await client.get(launch[:-3] + ("aaa" if not launch.endswith("aaa") else "bbb"))
    assert tampered.status_code == 401

    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + session.LAUNCH_MAX_AGE_S - 5)
    client.cookies.clear()
    assert (await client.get(launch)).status_code == 303  # still inside its five minutes

    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + session.LAUNCH_MAX_AGE_S + 5)
    client.cookies.clear()
    expired = await client.get(launch)
    assert expired.status_code == 401 and "expired" in expired.text
    assert (await client.get("/crm/people")).status_code == 401  # no session came of it


async def test_launch_url_needs_a_token_and_a_safe_next(client: httpx.AsyncClient,
                                                        workspace: CreatedWorkspace) -> None:
    assert (await client.post("/api/launch-url", json={"next": "/crm"})).status_code == 401
    for odd in (True, 12, ["/crm"], "//evil.example"):
        made = await client.post("/api/launch-url", json={"next": odd}, headers=bearer(workspace.operator_token))
        assert made.status_code == 200, made.text
        parts = urlsplit(made.json()["url"])
        opened = await client.get(f"{parts.path}?{parts.query}")
        assert opened.headers["location"] == "/", odd

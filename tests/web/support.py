"""Helpers for the page tests: sign in through the token exchange and read the page's CSRF token."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def sign_in(client: httpx.AsyncClient, token: str, next_path: str = "/") -> httpx.Response:
    """Exchange the token for a page session (the cookie lands in the client's jar)."""
    response = await client.get(f"/login?{urlencode({'token': token, 'next': next_path})}")
    assert response.status_code == 303, response.text
    return response


async def page_csrf(client: httpx.AsyncClient, path: str = "/settings") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_META.search(page.text)
    assert found, "no csrf meta tag"
    return found.group(1)

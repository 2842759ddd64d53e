"""Canned Attio answers over respx, each request and each answer checked against the spec.

    server = CannedAttio()
    server.on("GET", "/v2/objects/people", (429, canned.rate_limit_json(), {"Retry-After": "0"}),
              (200, {"data": canned.object_json("people", "Person", "People")}))
    transport = server.transport()

Replies are served in order; the last one repeats. An exception instance is raised instead.
"""

from __future__ import annotations

from typing import Any

import httpx
import respx

from app.crm.attio.ratelimit import RateLimits, TokenBucket
from app.crm.attio.transport import AttioTransport
from tests.crm.attio.clock import FakeClock
from tests.crm.attio.openapi_check import OpenAPICheck

TOKEN = "attio-secret-token-4f9a1c"
BASE_URL = "https://api.attio.com"
Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]] | Exception


class CannedAttio:
    def __init__(self) -> None:
        self.check = OpenAPICheck.load()
        self.router = respx.MockRouter(assert_all_called=False)
        self.clock = FakeClock()

    def on(self, method: str, path: str, *replies: Reply) -> respx.Route:
        queue = list(replies)

        def answer(request: httpx.Request) -> httpx.Response:
            op, _ = self.check.check_request(request)
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
            if isinstance(reply, Exception):
                raise reply
            status, body = reply[0], reply[1]
            headers = reply[2] if len(reply) == 3 else {}
            self.check.check_response(op.method, op.template, status, body)
            return httpx.Response(status, json=body, headers=headers)

        return self.router.route(method=method, host="api.attio.com", path=path).mock(side_effect=answer)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))

    def transport(self, *, max_attempts: int = 4, limits: RateLimits | None = None) -> AttioTransport:
        if limits is None:
            limits = RateLimits(
                read=TokenBucket(100, clock=self.clock, sleep=self.clock.sleep),
                write=TokenBucket(25, clock=self.clock, sleep=self.clock.sleep),
            )
        return AttioTransport(
            self.client(),
            TOKEN,
            base_url=BASE_URL,
            limits=limits,
            sleep=self.clock.sleep,
            max_attempts=max_attempts,
        )

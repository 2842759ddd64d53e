"""Drive an ASGI app with exactly the bytes and messages a hostile client (or a dropped connection)
produces: any headers (no Content-Length, a lying one), a body in chunks, a disconnect mid-body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


async def raw_request(app: ASGIApp, method: str, path: str, headers: Sequence[tuple[bytes, bytes]],
                      chunks: Sequence[bytes], *, disconnect: bool = False) -> RawResponse:
    """Send `chunks` as the body (more_body on all but the last); with `disconnect`, the client
    goes away after the last chunk instead of finishing the body."""
    pending: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": disconnect or i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": disconnect}]
    if disconnect:
        pending.append({"type": "http.disconnect"})
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    try:
        await app(scope, receive, send)
    except Exception:
        # Starlette re-raises after sending its 500; the status is what the client would see.
        if not any(m["type"] == "http.response.start" for m in sent):
            raise
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return RawResponse(start["status"], {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}, body)

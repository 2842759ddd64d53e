"""`http.request`: POST (or PUT/PATCH) JSON to a URL, e.g. a chat webhook."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from blocks.base import BlockConfig, BlockDefinition
from blocks.http_request.execute import execute


class HttpRequestConfig(BlockConfig):
    url: str = Field(max_length=2000, description="http(s) URL")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    body: Any = Field(default=None, description="any JSON value; strings may use templates")
    timeout_s: float = Field(default=10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.strip()

    @field_validator("headers")
    @classmethod
    def _no_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = {"content-type", "content-length", "host", "idempotency-key"}
        clash = sorted(k for k in value if k.lower() in reserved)
        if clash:
            raise ValueError(f"{', '.join(clash)} is set by the block")
        return value


class HttpRequestOutcome(BaseModel):
    status_code: int
    body: Any = Field(default=None, description="the JSON answer, or its text")


BLOCK = BlockDefinition(
    id="http.request",
    kind="step",
    title="Send an HTTP request",
    description="Send JSON to a URL. Sends `Idempotency-Key: <execution id>`. A 5xx answer or a timeout is "
    "retried; a 4xx answer is not.",
    config_model=HttpRequestConfig,
    outcome_model=HttpRequestOutcome,
    execute=execute,
)

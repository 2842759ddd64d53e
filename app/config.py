"""Configuration from the environment (DESIGN §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/invoicing.db"
    redis_url: str | None = None
    # Fernet key material; generated into DATA_DIR on first run when unset.
    app_secret: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"
    stripe_api_base: str | None = None
    crm_backend: Literal["local", "attio"] = "local"
    attio_api_token: SecretStr | None = None
    attio_api_base: str = "https://api.attio.com"
    data_dir: Path = Path("./data")
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    # Seconds between reconcile passes per workspace (events.list since the last seen event).
    reconcile_interval_s: float = Field(default=300.0, gt=0)
    # Stripe's documented request rate limits, per key.
    stripe_rate_sandbox: float = 25.0
    stripe_rate_live: float = 100.0
    stripe_max_network_retries: int = 2
    max_body_bytes: int = 1_048_576
    # A job runner renews its lease every page; another runner takes over once it expires.
    job_lease_s: float = Field(default=30.0, gt=0)
    # The longest a workflow step may run before another worker assumes its runner died.
    workflow_lease_s: float = Field(default=180.0, gt=0)
    # Stored events still pending this long are queued again by the sweep.
    pending_event_grace_s: float = Field(default=30.0, ge=0)
    sweep_interval_s: float = Field(default=15.0, gt=0)
    event_max_attempts: int = Field(default=8, ge=1)
    redis_key_prefix: str = "invoicing"
    # `invoicing worker` only: serve its Prometheus metrics on this port (servers use /metrics).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]

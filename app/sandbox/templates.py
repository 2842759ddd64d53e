"""Stripe's example objects (copied into `fixtures/`), used as the key set of every response."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    with (FIXTURES_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        data = json.load(handle)
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True)
class Templates:
    """Loaded once per emulator state. Treat every value as read-only: renders share them."""

    account: dict[str, Any]
    customer: dict[str, Any]
    product: dict[str, Any]
    price: dict[str, Any]
    invoice: dict[str, Any]
    line_item: dict[str, Any]
    invoiceitem: dict[str, Any]
    webhook_endpoint: dict[str, Any]
    event: dict[str, Any]

    @classmethod
    def load(cls) -> Templates:
        return cls(**{name: load_fixture(name) for name in cls.__dataclass_fields__})

"""Which Stripe keys a mode accepts."""

from __future__ import annotations

import re
from typing import Literal

from app.errors import AppError, ErrorCode

Mode = Literal["sandbox", "production"]

_KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,247}$")
_ACCEPTED: dict[str, tuple[str, str]] = {
    "sandbox": ("sk_test_", "rk_test_"),
    "production": ("sk_live_", "rk_live_"),
}


def check_key_for_mode(key: str, mode: Mode) -> None:
    """Raise a 422 that says which key kind the mode needs."""
    wanted = " or ".join(f"'{p}…'" for p in _ACCEPTED[mode])
    if key.startswith(("pk_test_", "pk_live_")):
        raise AppError(ErrorCode.VALIDATION, f"That is a publishable key; {mode} mode needs a secret or restricted key ({wanted}).",
                       fields={"stripe_api_key": f"needs {wanted}"})
    if not key.startswith(_ACCEPTED[mode]):
        other = "production" if mode == "sandbox" else "sandbox"
        hint = f" That key is for {other} mode." if key.startswith(_ACCEPTED[other]) else ""
        raise AppError(ErrorCode.VALIDATION, f"Mode '{mode}' accepts only {wanted} keys.{hint}",
                       fields={"stripe_api_key": f"needs {wanted}"})
    if not _KEY.match(key):
        raise AppError(ErrorCode.VALIDATION, "That does not look like a Stripe API key (letters and digits after the prefix).",
                       fields={"stripe_api_key": "malformed key"})

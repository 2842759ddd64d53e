"""Secrets at rest (Fernet) and in display (masking); API token generation and hashing."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Encrypts secrets (Stripe keys, webhook secrets) before they reach the database."""

    def __init__(self, key_material: str) -> None:
        # Any string works as key material: derive a proper 32-byte Fernet key from it.
        self._material = key_material.encode()
        digest = hashlib.sha256(self._material).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def derive(self, purpose: str) -> str:
        """A separate secret for another use (cookie signing, HMAC), derived from the same material."""
        return hashlib.sha256(self._material + b"\x00" + purpose.encode()).hexdigest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted: APP_SECRET changed?") from exc


def load_or_create_app_secret(data_dir: Path) -> str:
    """The APP_SECRET for a deployment that did not set one: made once, kept in the data dir."""
    path = data_dir / "app_secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def mask_key(key: str) -> str:
    """`rk_test_…abcd`: the kind prefix and the last four characters, never more."""
    prefix_end = key.find("_", key.find("_") + 1) + 1  # after "sk_test_" / "rk_live_"
    prefix = key[:prefix_end] if 0 < prefix_end <= 8 else ""
    return f"{prefix}…{key[-4:]}" if len(key) >= 12 else "…"


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"

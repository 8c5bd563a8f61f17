"""Authenticated encryption of what the app keeps at rest in Redis (tokens, traces)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "Cipher"]


def derive_key(secret_key: str) -> str:
    """Derive a Fernet key from SECRET_KEY, for deployments that set no key of their own."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal token store")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())).decode()


class Cipher:
    """Encrypt with the first key, decrypt with any: keys rotate without signing anyone out."""

    def __init__(self, keys: Sequence[str], secret_key: str) -> None:
        keys = list(keys) or [derive_key(secret_key)]
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: bytes) -> bytes:
        # Fernet tokens are base64 text; Redis stores bytes, so keep them a quarter smaller.
        return base64.urlsafe_b64decode(self._fernet.encrypt(plaintext))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt, raising InvalidToken for anything forged, damaged or under an unknown key."""
        return self._fernet.decrypt(base64.urlsafe_b64encode(ciphertext))

"""Authenticated encryption of what the app keeps at rest in Redis (tokens, traces).

What is stored is a Fernet token as bytes, not base64 text. Fernet encrypts it; decrypting
does what Fernet does once it has base64-decoded a token, with the same primitives, so the
stored bytes are not base64-encoded on every read only for Fernet to decode them again.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher as AesCipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "Cipher"]

VERSION = 0x80  # a Fernet token's first byte
_SHA256 = hashes.SHA256()


def derive_key(secret_key: str) -> str:
    """Derive a Fernet key from SECRET_KEY, for deployments that set no key of their own."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal token store")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())).decode()


class Cipher:
    """Encrypt with the first key, decrypt with any: keys rotate without signing anyone out."""

    def __init__(self, keys: Sequence[str], secret_key: str) -> None:
        keys = list(keys) or [derive_key(secret_key)]
        self._fernet = MultiFernet([Fernet(key) for key in keys])  # refuses a malformed key
        self._keys = [_FernetKey(key) for key in keys]

    def encrypt(self, plaintext: bytes) -> bytes:
        # Fernet tokens are base64 text; Redis stores bytes, so keep them a quarter smaller.
        return base64.urlsafe_b64decode(self._fernet.encrypt(plaintext))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt, raising InvalidToken for anything forged, damaged or under an unknown key."""
        if len(ciphertext) < 9 or ciphertext[0] != VERSION:  # a version and a timestamp
            raise InvalidToken
        for key in self._keys:
            try:
                return key.decrypt(ciphertext)
            except InvalidToken:
                continue
        raise InvalidToken


class _FernetKey:
    """One Fernet key, halved as Fernet halves it: the first 16 bytes sign, the rest encrypt."""

    def __init__(self, key: str) -> None:
        raw = base64.urlsafe_b64decode(key)
        self._signing = raw[:16]
        self._aes = algorithms.AES(raw[16:])

    def decrypt(self, token: bytes) -> bytes:
        """Check a token's HMAC, then decrypt it: Fernet's decrypt of a decoded token, no TTL.

        A token is the version, an 8-byte timestamp, a 16-byte IV, the AES-CBC ciphertext of
        the PKCS7-padded plaintext, and an HMAC-SHA256 of all of those.
        """
        signature = HMAC(self._signing, _SHA256)
        signature.update(memoryview(token)[:-32])
        try:
            signature.verify(token[-32:])
        except InvalidSignature:
            raise InvalidToken from None
        unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
        try:  # a signed token too short for its IV, or of broken blocks, is refused alike
            decryptor = AesCipher(self._aes, modes.CBC(token[9:25])).decryptor()
            padded = decryptor.update(memoryview(token)[25:-32]) + decryptor.finalize()
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise InvalidToken from None

"""Encryption at rest: rotation without signing anyone out, and refusal of anything forged."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from flask_altitudeangel._crypto import Cipher, InvalidToken


def test_a_new_key_still_reads_what_the_old_key_wrote() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    written = Cipher([old], "unused").encrypt(b"tokens")
    assert Cipher([new, old], "unused").decrypt(written) == b"tokens"
    with pytest.raises(InvalidToken):
        Cipher([new], "unused").decrypt(written)


def test_tampering_is_detected() -> None:
    cipher = Cipher([], "a secret key of at least thirty-two characters")
    written = bytearray(cipher.encrypt(b"tokens"))
    written[-1] ^= 1
    with pytest.raises(InvalidToken):
        cipher.decrypt(bytes(written))


def test_ciphertext_is_raw_bytes_not_base64() -> None:
    cipher = Cipher([], "a secret key of at least thirty-two characters")
    plaintext = b"x" * 900
    assert len(cipher.encrypt(plaintext)) < 1000

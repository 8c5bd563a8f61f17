"""Encryption at rest: rotation without signing anyone out, and refusal of anything forged."""

from __future__ import annotations

import base64
import hashlib
import hmac

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


# Stored by the Cipher of before decryption stopped going through Fernet's base64 (Fernet's own
# decrypt): a key given in the settings, and one derived from the SECRET_KEY below.
GIVEN_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
STORED_UNDER_GIVEN_KEY = (
    "gAAAAABrEYfNBF3RK8FFzFiMBDXFkgv4/305JrTsQw/161HnryzL9uMpBipUPgOlirg04tu/FjByGc8h7DMK3ozQ"
    "ke4ff+ii/qt55Lu9k7Rd0cDE1RQbm5RFCYSJFPE3ObbxqYE77iUm"
)
STORED_UNDER_DERIVED_KEY = (
    "gAAAAABrEYfN5/hWKo95YnVqq+effXuAYrZrNq3UvV8udZmotP6Jk+QvOV/52aOf65/Kxo+40Y5fR88j4DdZuyxG"
    "7orHK4l2ww=="
)
SECRET = "a secret key of at least thirty-two characters"


def test_what_was_stored_before_still_decrypts() -> None:
    stored = base64.b64decode(STORED_UNDER_GIVEN_KEY)
    assert Cipher([GIVEN_KEY], "unused").decrypt(stored) == b'{"access_token": "written before"}'
    assert Cipher([], SECRET).decrypt(base64.b64decode(STORED_UNDER_DERIVED_KEY)) == b"derived"
    rotated = Cipher([Fernet.generate_key().decode(), GIVEN_KEY], "unused")
    assert rotated.decrypt(stored) == b'{"access_token": "written before"}'


def test_what_it_writes_is_a_fernet_token_fernet_reads() -> None:
    written = Cipher([GIVEN_KEY], "unused").encrypt(b"tokens")
    assert Fernet(GIVEN_KEY).decrypt(base64.urlsafe_b64encode(written)) == b"tokens"


def test_every_damaged_byte_is_refused_as_fernet_refuses_it() -> None:
    cipher = Cipher([GIVEN_KEY], "unused")
    written = cipher.encrypt(b"x" * 40)
    damaged = [written[:cut] for cut in range(len(written))]
    for at in range(len(written)):
        flipped = bytearray(written)
        flipped[at] ^= 0x01
        damaged.append(bytes(flipped))
    for token in damaged:
        with pytest.raises(InvalidToken):
            Fernet(GIVEN_KEY).decrypt(base64.urlsafe_b64encode(token))
        with pytest.raises(InvalidToken):
            cipher.decrypt(token)


@pytest.mark.parametrize("body", [b"", b"short iv", b"a 16-byte IV....and 5"])
def test_a_signed_token_of_the_wrong_shape_is_refused_not_raised(body: bytes) -> None:
    """Signed with the key (as only its holder could), yet no IV or whole blocks to decrypt."""
    key = Fernet.generate_key()
    raw = base64.urlsafe_b64decode(key)
    signed = bytes([0x80]) + bytes(8) + body
    mac = hmac.new(raw[:16], signed, hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        Cipher([key.decode()], "unused").decrypt(signed + mac)

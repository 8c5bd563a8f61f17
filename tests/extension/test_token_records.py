"""How the Redis store writes a login's record: compressed JSON, encrypted; older ones read too."""

from __future__ import annotations

import json
import secrets
import time
import zlib
from collections.abc import Iterator

import pytest
import redis

from flask_altitudeangel import Cipher
from flask_altitudeangel.storage import RedisTokenStore, UserToken
from tests.services import RedisServer

CIPHER = Cipher((), "record-secret-" + "k" * 32)


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client(db=6)
    yield client
    client.close()


def jwt_like() -> str:
    """An access token as long as the sandbox's, its three parts base64url."""
    return ".".join(secrets.token_urlsafe(n) for n in (50, 480, 256))


def test_a_record_is_stored_compressed_and_read_back_whole(client: redis.Redis) -> None:
    store = RedisTokenStore(client, CIPHER, "records-a:")
    now = int(time.time())
    token = UserToken(jwt_like(), secrets.token_urlsafe(48), "query_userinfo", now + 900, 900, now)
    saved = store.create("login-1", token, now + 600, now + 3600)
    blob = client.hget(store.key("login-1"), "blob")
    plaintext = CIPHER.decrypt(blob)
    written = json.dumps(
        {k: v for k, v in vars(token).items() if v is not None and k != "version"},
        separators=(",", ":"),
    ).encode()
    assert json.loads(zlib.decompress(plaintext)) == json.loads(written)
    assert len(blob) < len(written)  # a quarter smaller than its JSON, encryption included
    assert store.get("login-1") == saved


def test_a_record_written_before_compression_still_reads(client: redis.Redis) -> None:
    store = RedisTokenStore(client, CIPHER, "records-b:")
    now = int(time.time())
    fields = {
        "access_token": "at-old",
        "refresh_token": "rt-old",
        "scope": "query_userinfo",
        "expires_at": now + 900,
        "lifetime": 900,
        "obtained_at": now,
        "refreshed_at": None,
        "token_type": "Bearer",
        "dpop_jwk": None,
    }
    old = CIPHER.encrypt(json.dumps(fields, separators=(",", ":")).encode())
    client.hset(store.key("login-2"), mapping={"v": 3, "blob": old})
    found = store.get("login-2")
    assert found is not None and found.version == 3
    assert (found.access_token, found.refresh_token) == ("at-old", "rt-old")


def test_a_record_that_is_neither_is_no_token(client: redis.Redis) -> None:
    store = RedisTokenStore(client, CIPHER, "records-c:")
    client.hset(store.key("login-3"), mapping={"v": 1, "blob": CIPHER.encrypt(b"\x00garbage")})
    assert store.get("login-3") is None

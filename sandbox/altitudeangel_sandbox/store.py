"""The Redis connection and the key names every sandbox module shares."""

from __future__ import annotations

import hashlib

import redis

PREFIX = "sandbox:"


def connect(url: str) -> redis.Redis:
    """Return a Redis client that never waits long for the server."""
    return redis.Redis.from_url(
        url,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
        decode_responses=True,
    )


def key(*parts: str) -> str:
    """Return the Redis key for ``parts`` under the sandbox prefix."""
    return PREFIX + ":".join(parts)


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a code or token is stored, never the value."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()

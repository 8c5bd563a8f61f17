"""Remembered consent: which scopes each user has already granted to each client."""

from __future__ import annotations

import redis

from altitudeangel_sandbox.store import key

CONSENT_TTL = 365 * 86400


class Consents:
    """The consent each user gave, per client."""

    def __init__(self, db: redis.Redis):
        self._db = db

    def remembered(self, username: str, client_id: str, scope: str) -> bool:
        """Return whether the user already granted every scope in ``scope`` to the client."""
        scopes = scope.split()
        if not scopes:
            return False
        return all(self._db.smismember(key("consent", username, client_id), scopes))

    def remember(self, username: str, client_id: str, scope: str) -> None:
        """Record that the user granted ``scope`` to the client."""
        name = key("consent", username, client_id)
        with self._db.pipeline() as pipe:
            pipe.sadd(name, *scope.split())
            pipe.expire(name, CONSENT_TTL)
            pipe.execute()

"""Refresh tokens: opaque, stored by digest, rotated on every use, revoked a family at a time."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import redis

from altitudeangel_sandbox.oauth.access_tokens import family_revoked_key
from altitudeangel_sandbox.oauth.sessions import SignIn
from altitudeangel_sandbox.store import digest, key


@dataclass(frozen=True)
class RefreshToken:
    """A stored refresh token: who holds it, for whom, with which scope, in which family."""

    digest: str
    client_id: str
    username: str
    scope: str
    family: str | None
    jkt: str | None = None
    sid: str | None = None
    auth_time: int | None = None

    @property
    def sign_in(self) -> SignIn | None:
        """Return the browser sign-in of the login, without its nonce (Core §12.2)."""
        if self.sid is None or self.auth_time is None:
            return None
        return SignIn(self.sid, self.auth_time)

    def check_client(self, client: object) -> bool:
        """Return whether ``client`` is the one the token was issued to."""
        return getattr(client, "client_id", None) == self.client_id

    def get_scope(self) -> str:
        """Return the scope the user granted to this login."""
        return self.scope


def _live_key(token_digest: str) -> str:
    return key("refresh-token", token_digest)


def _rotated_key(token_digest: str) -> str:
    return key("refresh-token-rotated", token_digest)


class RefreshTokens:
    """Store, rotate and revoke refresh tokens and the login families they belong to."""

    def __init__(self, db: redis.Redis, ttl: int, family_ttl: int):
        self._db = db
        self._ttl = ttl
        self._family_ttl = family_ttl

    def issue(
        self,
        client_id: str,
        username: str,
        scope: str,
        family: str | None,
        jkt: str | None = None,
        sign_in: SignIn | None = None,
    ) -> str:
        """Return a new refresh token of a login family (none for a client's own), maybe bound.

        ``sign_in`` is kept for the ID tokens of its refreshes, when the login has them.
        """
        value = secrets.token_urlsafe(48)
        record = {
            "client_id": client_id,
            "username": username,
            "scope": scope,
            "family": family,
            "jkt": jkt,
            "sid": sign_in.sid if sign_in else None,
            "auth_time": sign_in.auth_time if sign_in else None,
        }
        self._db.set(_live_key(digest(value)), json.dumps(record), ex=self._ttl)
        return value

    def find(self, value: str) -> RefreshToken | None:
        """Return the live token ``value`` stands for, unless its family was revoked."""
        token = self._load(_live_key(digest(value)), digest(value))
        if token is None or (token.family and self.family_revoked(token.family)):
            return None
        return token

    def find_rotated(self, value: str) -> RefreshToken | None:
        """Return the token ``value`` stood for if it was already used once."""
        return self._load(_rotated_key(digest(value)), digest(value))

    def _load(self, name: str, token_digest: str) -> RefreshToken | None:
        record = self._db.get(name)
        if record is None:
            return None
        return RefreshToken(digest=token_digest, **json.loads(str(record)))

    def claim(self, token: RefreshToken) -> bool:
        """Mark the token used; return False if another request used it first."""
        # RENAME is atomic: of two concurrent refreshes exactly one moves the key.
        try:
            self._db.rename(_live_key(token.digest), _rotated_key(token.digest))
        except redis.ResponseError:
            return False
        return True

    def revoke(self, token: RefreshToken) -> None:
        """Revoke the token and, with it, its whole family."""
        self._db.delete(_live_key(token.digest))
        self.revoke_family(token.family)

    def revoke_family(self, family: str | None) -> None:
        """Kill every refresh and access token issued in ``family`` at once."""
        if family is not None:
            self._db.set(family_revoked_key(family), "1", ex=self._family_ttl)

    def family_revoked(self, family: str) -> bool:
        """Return whether ``family`` was revoked."""
        return bool(self._db.exists(family_revoked_key(family)))

"""The one owner of users' stored tokens: get, save, compare-and-set, clear.

Tokens live in their own Redis hash per login, never inside the session blob (which is rewritten
wholesale and would bring back a stale refresh token). The hash holds a plain version counter,
so a refresh can be saved with a compare-and-set, and the encrypted token itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from redis.lock import Lock

from flask_altitudeangel._crypto import Cipher, InvalidToken

# Saves the new token only if nobody saved another since `expected` was read. The key keeps
# the expiry it was created with: a refresh never lets it outlive the sign-in's absolute limit.
COMPARE_AND_SET = """
local current = redis.call('HGET', KEYS[1], 'v')
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'blob', ARGV[3])
return 1
"""
# Every live login by the time it falls idle, so the ones nobody signs out can be swept.
IDLE_INDEX = "logins-by-idle-deadline"


class UnsupportedTokenType(ValueError):
    """The token endpoint answered with a token type other than Bearer."""


@dataclass(frozen=True)
class UserToken:
    """A user's tokens as the app keeps them; ``expires_at`` is an absolute Unix time."""

    access_token: str
    refresh_token: str | None
    scope: str
    expires_at: int | None
    lifetime: int | None  # the expires_in the server gave, for the refresh margin cap
    obtained_at: int
    refreshed_at: int | None = None
    token_type: str = "Bearer"
    dpop_jwk: dict[str, Any] | None = None  # the private key a DPoP-bound token needs
    version: int = 0

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    def needs_refresh(self, now: float, margin: float, jitter: float = 0.0) -> bool:
        """Tell whether the token is within the refresh margin (capped at half its lifetime).

        ``jitter``, a fraction of the margin, spreads the refreshes of many logins apart.
        """
        if self.expires_at is None:
            return False
        if self.lifetime is not None:
            margin = min(margin, self.lifetime / 2)
        return now >= self.expires_at - margin * (1 + jitter)


def token_from_response(
    response: Mapping[str, Any],
    requested_scope: str,
    previous: UserToken | None = None,
    dpop_jwk: dict[str, Any] | None = None,
) -> UserToken:
    """Build a UserToken from a token endpoint response, as received now.

    Expiry is computed from ``expires_in`` at receipt, so a clock that differs from the
    server's does not matter. A refresh response without a refresh token keeps the old one.
    A DPoP token keeps the key it is bound to; a server that ignored the proof and answered
    with a Bearer token gets it used as one (RFC 9449 §5).
    """
    token_type = str(response.get("token_type", "")).lower()
    if token_type == "dpop" and dpop_jwk is not None:  # nosec B105 - a token type
        kind, key = "DPoP", dpop_jwk
    elif token_type == "bearer":  # nosec B105 - a token type, not a secret
        kind, key = "Bearer", None
    else:
        raise UnsupportedTokenType(f"unsupported token type {token_type!r}")
    now = int(time.time())
    lifetime = _positive_int(response.get("expires_in"))
    refresh_token = response.get("refresh_token") or (previous and previous.refresh_token)
    scope = response.get("scope") or (previous.scope if previous else requested_scope)
    if isinstance(scope, list):
        scope = " ".join(scope)
    return UserToken(
        access_token=str(response["access_token"]),
        refresh_token=refresh_token or None,
        scope=str(scope),
        expires_at=now + lifetime if lifetime is not None else None,
        lifetime=lifetime,
        obtained_at=previous.obtained_at if previous else now,
        refreshed_at=now if previous else None,
        token_type=kind,
        dpop_jwk=key,
        version=previous.version if previous else 0,
    )


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


class TokenStore:
    """Users' tokens in Redis, encrypted, addressed by a random login id kept in the session."""

    def __init__(self, redis: Any, cipher: Cipher, ttl: int, lock_ttl: float, prefix: str) -> None:
        self._redis = redis
        self._cipher = cipher
        self._ttl = ttl
        self._lock_ttl = lock_ttl
        self._prefix = prefix
        self._idle_index = prefix + IDLE_INDEX
        self._compare_and_set = redis.register_script(COMPARE_AND_SET)

    def key(self, login_id: str, part: str = "tokens") -> str:
        """Name a key of one login; the hash tag keeps them in one Redis Cluster slot."""
        return f"{self._prefix}login:{{{login_id}}}:{part}"

    def get(self, login_id: str) -> UserToken | None:
        """Return the stored token, or None when there is none or it cannot be decrypted."""
        version, blob = self._redis.hmget(self.key(login_id), "v", "blob")
        if version is None or blob is None:
            return None
        try:
            fields = json.loads(self._cipher.decrypt(blob))
        except (InvalidToken, ValueError):
            return None
        return UserToken(**{**fields, "version": int(version)})

    def version(self, login_id: str) -> int | None:
        """Return the stored token's version without decrypting it."""
        version = self._redis.hget(self.key(login_id), "v")
        return None if version is None else int(version)

    def create(self, login_id: str, token: UserToken, idle_deadline: int) -> UserToken:
        """Store the first token of a new login, kept until the sign-in's absolute limit."""
        saved = replace(token, version=1)
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(login_id), mapping={"v": 1, "blob": self._encrypt(saved)})
            pipe.expireat(self.key(login_id), saved.obtained_at + self._ttl)
            pipe.execute()
        self.seen(login_id, idle_deadline)
        # Logins idle since before any sign-in still live have no tokens left to revoke.
        self._redis.zremrangebyscore(self._idle_index, "-inf", saved.obtained_at - self._ttl)
        return saved

    def seen(self, login_id: str, idle_deadline: int) -> None:
        """Note when the login falls idle unless it is used again."""
        self._redis.zadd(self._idle_index, {login_id: idle_deadline})

    def idle_logins(self, now: float, limit: int = 500) -> list[str]:
        """Return logins that fell idle before ``now``, oldest first."""
        found = self._redis.zrangebyscore(self._idle_index, "-inf", now, start=0, num=limit)
        return [item.decode() if isinstance(item, bytes) else str(item) for item in found]

    def compare_and_set(self, login_id: str, expected: int, token: UserToken) -> UserToken | None:
        """Save ``token`` if the stored version is still ``expected``; None if it was not."""
        saved = replace(token, version=expected + 1)
        done = self._compare_and_set(
            keys=[self.key(login_id)],
            args=[expected, saved.version, self._encrypt(saved)],
        )
        return saved if done else None

    def clear(self, login_id: str) -> None:
        """Delete everything kept for this login."""
        self._redis.delete(self.key(login_id))
        self._redis.zrem(self._idle_index, login_id)  # another slot on a cluster: its own command

    def lock(self, login_id: str) -> Lock:
        """Return the login's refresh lock (SET NX PX with an owner token)."""
        # One Lock object per refresh; not thread-local, so its keeper thread can extend it.
        return Lock(
            self._redis, self.key(login_id, "lock"), timeout=self._lock_ttl, thread_local=False
        )

    def _encrypt(self, token: UserToken) -> bytes:
        fields = asdict(token)
        del fields["version"]
        return self._cipher.encrypt(json.dumps(fields, separators=(",", ":")).encode())

"""Where a login's trace is kept: an encrypted, bounded Redis list beside the login's tokens.

Beside them, two short-lived notes: the steps /login told, until the callback of that attempt,
and how a user's login was ended by the provider (back-channel logout), until their next
sign-in. A step never holds a whole token, code, verifier or secret: only kinds, lengths, shortened
values and fingerprints (the extension's ``shown()`` and ``fingerprint()``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.fernet import InvalidToken

from flask_altitudeangel import Cipher

MAX_STEPS = 60
ATTEMPT_TTL = 600  # seconds: as long as the extension keeps a pending sign-in
BROWSER, APP, AUTH, API = "Browser", "App", "Authorization server", "API"
ACTORS = (BROWSER, APP, AUTH, API)


@dataclass(frozen=True)
class Step:
    """One message of the flow: who sent what to whom, why, and how long it took."""

    source: str
    target: str
    title: str
    rfc: str
    caption: str
    details: list[tuple[str, str]] = field(default_factory=list)
    ms: float | None = None
    at: float = field(default_factory=time.time)
    previous: bool = False  # told of the login before this one (how it ended)


class TraceStore:
    """The steps of each login, oldest first, kept as long as the login's tokens at most."""

    def __init__(self, redis: Any, cipher: Cipher, ttl: int) -> None:
        self._redis = redis
        self._cipher = cipher
        self._ttl = ttl

    @staticmethod
    def key(login_id: str) -> str:
        """Name the login's trace; the hash tag puts it in the slot of the login's tokens."""
        return f"portal:login:{{{login_id}}}:trace"

    def record(self, login_id: str, steps: Iterable[Step]) -> None:
        """Append steps to the login's trace, keeping the newest MAX_STEPS."""
        blobs = [self._cipher.encrypt(json.dumps(asdict(s)).encode()) for s in steps]
        if not blobs:
            return
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(self.key(login_id), *blobs)
            pipe.ltrim(self.key(login_id), -MAX_STEPS, -1)
            # Set once, when the list is made at sign-in: it goes when the login's tokens go.
            pipe.expire(self.key(login_id), self._ttl, nx=True)
            pipe.execute()

    def keep_attempt(self, attempt: str, steps: Iterable[Step]) -> None:
        """Keep the steps of a sign-in attempt until its callback, at most as long as it lives."""
        self._keep(f"portal:trace:attempt:{attempt}", steps, ATTEMPT_TTL)

    def take_attempt(self, attempt: str) -> list[Step]:
        """Return and forget the steps of a sign-in attempt; none when it is unknown or damaged."""
        return self._take(f"portal:trace:attempt:{attempt}")

    def keep_ended(self, sub: str, steps: Iterable[Step]) -> None:
        """Keep how a login of user ``sub`` ended, for their next sign-in's trace."""
        self._keep(self._ended_key(sub), steps, self._ttl)

    def take_ended(self, sub: str) -> list[Step]:
        """Return and forget how the last ended login of user ``sub`` ended, if it is kept."""
        return self._take(self._ended_key(sub))

    @staticmethod
    def _ended_key(sub: str) -> str:
        # The user's id at the provider is not put in a key's name.
        return f"portal:trace:ended:{hashlib.sha256(sub.encode()).hexdigest()[:32]}"

    def _keep(self, key: str, steps: Iterable[Step], ttl: int) -> None:
        blob = json.dumps([asdict(s) for s in steps]).encode()
        self._redis.set(key, self._cipher.encrypt(blob), ex=ttl)

    def _take(self, key: str) -> list[Step]:
        blob = self._redis.getdel(key)
        if blob is None:
            return []
        try:
            return [_step(data) for data in json.loads(self._cipher.decrypt(blob))]
        except (InvalidToken, ValueError, TypeError):
            return []

    def forget(self, login_id: str) -> None:
        self._redis.delete(self.key(login_id))

    def steps(self, login_id: str) -> list[Step]:
        """Return the login's steps, oldest first; damaged entries are left out."""
        steps = []
        for blob in self._redis.lrange(self.key(login_id), 0, -1):
            try:
                data = json.loads(self._cipher.decrypt(blob))
            except (InvalidToken, ValueError):
                continue
            steps.append(_step(data))
        return steps


def _step(data: dict[str, Any]) -> Step:
    data["details"] = [tuple(pair) for pair in data.get("details", [])]
    return Step(**data)

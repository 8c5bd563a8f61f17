"""The flow trace: what went over the wire for one login, in order, for the /flow page.

Steps are kept next to the login's tokens, encrypted like them, bounded, and expiring with them.
A step never holds a whole token, code, verifier or secret: only kinds, lengths, truncations
and fingerprints (``shown()``, ``fingerprint()``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import g, has_request_context

from portal.crypto import Cipher, InvalidToken

MAX_STEPS = 60

CLIENT_TOKEN_OPERATIONS = {"map_data"}
USER_CALL = (
    "RFC 6750 §2.1",
    "With your access token, in the Authorization header, never in the URL.",
)
CLIENT_TOKEN_CALL = (
    "RFC 6749 §4.4, RFC 6750 §2.1",
    "With the app's own client-credentials token: no permission of yours is needed.",
)

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


def shown(value: str | None, keep: int = 6) -> str:
    """Show the start of a one-time value, enough to recognise it, never enough to use it."""
    if not value:
        return "(none)"
    return f"{value[:keep]}… ({len(value)} chars)"


def fingerprint(token: str) -> str:
    """Name a token by kind and a short hash, so two tokens can be told apart on the page."""
    kind = "JWT" if token.count(".") == 2 else "opaque"
    return f"{kind}, sha256 {hashlib.sha256(token.encode()).hexdigest()[:10]}"


def note_api_call(operation: str, path: str, status: str, seconds: float) -> None:
    """Remember an API call of this request, to be written with the request's other steps."""
    if has_request_context():
        rfc, caption = CLIENT_TOKEN_CALL if operation in CLIENT_TOKEN_OPERATIONS else USER_CALL
        step = Step(
            APP,
            API,
            operation.replace("_", " ").capitalize(),
            rfc,
            caption,
            [("request", path), ("status", status)],
            ms=round(seconds * 1000, 1),
        )
        g.setdefault("trace_steps", []).append(step)


class FlowTrace:
    """The steps of each login, in a Redis list beside its tokens."""

    def __init__(self, redis: Any, cipher: Cipher, ttl: int, enabled: bool) -> None:
        self._redis = redis
        self._cipher = cipher
        self._ttl = ttl
        self.enabled = enabled

    @staticmethod
    def key(login_id: str) -> str:
        return f"portal:login:{{{login_id}}}:trace"

    def record(self, login_id: str, steps: Iterable[Step]) -> None:
        """Append steps to the login's trace, keeping the newest MAX_STEPS."""
        if not self.enabled:
            return
        blobs = [self._cipher.encrypt(json.dumps(asdict(s)).encode()) for s in steps]
        if not blobs:
            return
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(self.key(login_id), *blobs)
            pipe.ltrim(self.key(login_id), -MAX_STEPS, -1)
            # Set once, when the list is made at sign-in: it goes when the login's tokens go.
            pipe.expire(self.key(login_id), self._ttl, nx=True)
            pipe.execute()

    def steps(self, login_id: str) -> list[Step]:
        """Return the login's steps, oldest first; damaged entries are left out."""
        steps = []
        for blob in self._redis.lrange(self.key(login_id), 0, -1):
            try:
                data = json.loads(self._cipher.decrypt(blob))
            except (InvalidToken, ValueError):
                continue
            data["details"] = [tuple(pair) for pair in data.get("details", [])]
            steps.append(Step(**data))
        return steps

"""Pending sign-ins: the state, PKCE verifier, nonce and return path of each sign-in attempt.

Each attempt has its own short-lived Redis key, named by a hash of its state, and a cookie that
binds it to the browser that started it. Nothing goes into the session: anonymous visitors get
no session at all, two tabs signing in at once each keep their own attempt, and two attempts
started at the same moment cannot overwrite each other. A state is spent once, atomically
(GETDEL), even when the same callback reaches two workers at the same moment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from flask import Request
from werkzeug.wrappers import Response

from flask_altitudeangel._crypto import Cipher, InvalidToken

LIFETIME = 600  # seconds an attempt may take, consent included
MAX_PER_BROWSER = 5  # attempts a browser may have pending; older ones are dropped
STATE = re.compile(r"[A-Za-z0-9_-]{32,128}")


@dataclass(frozen=True)
class PendingSignIn:
    """One sign-in attempt, from /login to its callback."""

    state: str
    code_verifier: str | None
    next: str
    scope: str
    created: int
    binding: str  # the secret the browser's cookie must hold
    nonce: str = ""  # sent when the scope asks for openid; the ID token must carry it

    def expired(self, now: float) -> bool:
        return now - self.created > LIFETIME


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class PendingSignIns:
    """Attempts in Redis, encrypted, each bound to its browser by a cookie of its own."""

    def __init__(
        self, redis: Any, cipher: Cipher, key_prefix: str, cookie_prefix: str, secure: bool
    ) -> None:
        self._key_prefix = key_prefix + "pending:"
        self._redis = redis
        self._cipher = cipher
        self._prefix = ("__Host-" if secure else "") + cookie_prefix
        self._secure = secure

    def begin(self, next_path: str, scope: str, use_pkce: bool) -> PendingSignIn:
        """Start an attempt and store it for ten minutes; one asking for openid gets a nonce."""
        pending = PendingSignIn(
            state=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64) if use_pkce else None,
            next=next_path,
            scope=scope,
            created=int(time.time()),
            binding=secrets.token_urlsafe(16),
            nonce=secrets.token_urlsafe(32) if "openid" in scope.split() else "",
        )
        self._save(pending)
        return pending

    def _save(self, pending: PendingSignIn) -> None:
        fields = asdict(pending)
        del fields["state"]  # the key is its hash: a dump of Redis does not hold live states
        if not fields["nonce"]:
            del fields["nonce"]  # as versions before it wrote an attempt
        blob = self._cipher.encrypt(json.dumps(fields, separators=(",", ":")).encode())
        self._redis.set(self._key(pending.state), blob, ex=LIFETIME)

    def bind(self, pending: PendingSignIn, request: Request, response: Response) -> None:
        """Give the browser the attempt's cookie, dropping its oldest beyond the limit."""
        mine = sorted(
            (value.split(".", 1)[0].zfill(20), name)
            for name, value in request.cookies.items()
            if name.startswith(self._prefix)
        )
        self.expire(response, [name for _, name in mine[: max(0, len(mine) - MAX_PER_BROWSER + 1)]])
        response.set_cookie(
            self._cookie_name(pending.state),
            f"{time.time_ns()}.{pending.binding}",  # its age first, to find the oldest
            max_age=LIFETIME,
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="Lax",  # sent on the top-level redirect back from the authorization server
        )

    def take(
        self, state: str, cookies: Mapping[str, str], expired: list[str]
    ) -> PendingSignIn | None:
        """Spend the attempt for ``state`` if this browser started it and it is still live.

        The name of the attempt's cookie is added to ``expired``: it is of no use any more.
        """
        if not STATE.fullmatch(state):
            return None
        name = self._cookie_name(state)
        cookie = cookies.get(name, "")
        blob = self._redis.getdel(self._key(state))
        if name in cookies:
            expired.append(name)
        if blob is None or "." not in cookie:
            return None
        try:
            fields = json.loads(self._cipher.decrypt(blob))
        except (InvalidToken, ValueError):
            return None
        fields.pop("pushed", None)  # written by earlier versions, for their flow trace
        pending = PendingSignIn(state=state, **fields)
        bound = hmac.compare_digest(cookie.split(".", 1)[1].encode(), pending.binding.encode())
        return pending if bound and not pending.expired(time.time()) else None

    def expire(self, response: Response, names: list[str]) -> None:
        """Expire these attempt cookies in the browser."""
        for name in names:
            response.delete_cookie(
                name, path="/", secure=self._secure, httponly=True, samesite="Lax"
            )

    def _key(self, state: str) -> str:
        return self._key_prefix + _digest(state)

    def _cookie_name(self, state: str) -> str:
        return self._prefix + _digest(state)[:12]

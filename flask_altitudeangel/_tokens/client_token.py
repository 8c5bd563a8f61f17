"""The client-credentials token: one per deployment, shared through Redis, fetched once."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from redis.lock import Lock

from flask_altitudeangel._crypto import Cipher, InvalidToken
from flask_altitudeangel._dpop import DPoPKey
from flask_altitudeangel._oauth import OAuthClient
from flask_altitudeangel.errors import AuthServerUnavailable

MARGIN = 60


@dataclass(frozen=True)
class ClientToken:
    access_token: str
    expires_at: float
    lifetime: int
    token_type: str = "Bearer"
    dpop_jwk: dict[str, Any] | None = None  # the app's key, when the token is DPoP-bound

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - min(MARGIN, self.lifetime // 2)


class ClientTokenSource:
    """Hand out a fresh client token; refetch it ahead of expiry under a single-flight lock."""

    def __init__(
        self,
        redis: Any,
        cipher: Cipher,
        oauth: OAuthClient,
        lock_ttl: float,
        wait: float,
        prefix: str,
        dpop: bool,
    ) -> None:
        self._dpop = dpop
        self._key = prefix + "client-token"
        self._redis = redis
        self._cipher = cipher
        self._oauth = oauth
        self._lock_ttl = lock_ttl
        self._wait = wait
        self._cached: ClientToken | None = None
        self._thread_lock = threading.Lock()

    def get(self) -> ClientToken:
        """Return a token that is not about to expire."""
        cached = self._cached
        if cached is not None and cached.fresh(time.time()):
            return cached
        with self._thread_lock:
            token = self._read()
            if token is None or not token.fresh(time.time()):
                token = self._fetch_once()
            self._cached = token
            return token

    def discard(self, access_token: str) -> None:
        """Forget a token the API rejected, so the next get() fetches another."""
        with self._thread_lock:
            if self._cached is not None and self._cached.access_token == access_token:
                self._cached = None
            stored = self._read()
            if stored is not None and stored.access_token == access_token:
                self._redis.delete(self._key)

    def _fetch_once(self) -> ClientToken:
        lock = Lock(self._redis, self._key + ":lock", timeout=self._lock_ttl)
        if not lock.acquire(blocking=True, blocking_timeout=self._wait):
            raise AuthServerUnavailable("client token refresh still in progress", retry_after=1)
        try:
            token = self._read()
            if token is not None and token.fresh(time.time()):
                return token  # another worker fetched it while we waited
            key = DPoPKey.generate() if self._dpop else None
            response, _ = self._oauth.client_credentials(key)
            lifetime = max(1, int(response.get("expires_in") or 300))
            bound = key is not None and str(response.get("token_type", "")).lower() == "dpop"
            token = ClientToken(
                str(response["access_token"]),
                time.time() + lifetime,
                lifetime,
                "DPoP" if bound else "Bearer",
                key.private_jwk() if bound and key else None,
            )
            blob = json.dumps(token.__dict__).encode()
            self._redis.set(self._key, self._cipher.encrypt(blob), ex=lifetime)
            return token
        finally:
            if lock.owned():
                lock.release()

    def _read(self) -> ClientToken | None:
        blob = self._redis.get(self._key)
        if blob is None:
            return None
        try:
            return ClientToken(**json.loads(self._cipher.decrypt(blob)))
        except (InvalidToken, ValueError, TypeError):
            return None

"""DPoP at this server: its switches, its rotating nonces and its jti replay cache."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

import redis
from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Response, request

from altitudeangel_sandbox.oauth.dpop.proof import IAT_WINDOW, DPoPError, token_hash, verify_proof
from altitudeangel_sandbox.settings import Settings
from altitudeangel_sandbox.store import key

NONCE_SECRET = key("dpop-nonce-secret")
# A jti is remembered for as long as a proof carrying it could pass the iat check.
JTI_TTL = 2 * IAT_WINDOW + 5
# The token endpoint's blueprint and the resource API's.
NONCE_BLUEPRINTS = frozenset({"token", "flights", "mapdata", "userinfo"})


class DPoPProofError(OAuth2Error):
    """A token request's DPoP problem, answered as an OAuth error (RFC 9449 §5, §8)."""

    status_code = 400

    def __init__(self, problem: DPoPError):
        super().__init__(problem.description)
        self.error = problem.error


class Proofs:
    """Check the request's DPoP proof, issue nonces, and refuse a proof seen before."""

    def __init__(self, db: redis.Redis, settings: Settings):
        self._db = db
        self.offered = settings.dpop_offered
        self.required = settings.dpop_required
        self.nonces = settings.dpop_nonce and settings.dpop_offered
        self._lifetime = settings.dpop_nonce_lifetime
        self._secret = self._load_secret() if self.nonces else b""

    def _load_secret(self) -> bytes:
        # NX: sandboxes sharing one Redis share the secret, so their nonces agree.
        self._db.set(NONCE_SECRET, secrets.token_hex(32), nx=True)
        return str(self._db.get(NONCE_SECRET)).encode()

    def _nonce_of(self, window: int) -> str:
        digest = hmac.new(self._secret, str(window).encode(), hashlib.sha256).hexdigest()
        return digest[:32]

    def nonce(self) -> str:
        """Return the current nonce; it changes every lifetime and stays valid one more."""
        return self._nonce_of(int(time.time() // self._lifetime))

    def nonce_ok(self, value: object) -> bool:
        """Return whether ``value`` is the current or the previous nonce."""
        window = int(time.time() // self._lifetime)
        recent = (self._nonce_of(window), self._nonce_of(window - 1))
        return isinstance(value, str) and any(hmac.compare_digest(value, n) for n in recent)

    def check(self, urls: list[str], access_token: str | None = None) -> str | None:
        """Verify the request's proof if it has one, once; return its key's thumbprint."""
        if not self.offered:
            return None
        proofs = request.headers.getlist("DPoP")
        if not proofs:
            return None
        if len(proofs) > 1:
            raise DPoPError("Send exactly one DPoP header.")
        ath = None if access_token is None else token_hash(access_token)
        nonce_ok = self.nonce_ok if self.nonces else None
        jkt, jti = verify_proof(proofs[0], request.method, urls, ath, nonce_ok)
        replay_key = key("dpop-jti", hashlib.sha256(f"{jkt}:{jti}".encode()).hexdigest())
        if not self._db.set(replay_key, "1", nx=True, ex=JTI_TTL):
            raise DPoPError("This DPoP proof was used before: make a new one for each request.")
        return jkt


def nonce_giver(proofs: Proofs) -> Callable[[Response], Response]:
    """Return the hook that hands out the current nonce on every answer of the token endpoint
    and the API (RFC 9449 §8.2)."""

    def add_nonce(response: Response) -> Response:
        if proofs.nonces and request.blueprint in NONCE_BLUEPRINTS:
            response.headers["DPoP-Nonce"] = proofs.nonce()
        return response

    return add_nonce

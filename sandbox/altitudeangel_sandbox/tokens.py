"""Access tokens: issued as RS256 JWTs (or opaque strings in generic mode) and read back."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass

import redis
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from altitudeangel_sandbox.settings import Settings
from altitudeangel_sandbox.signing import ALGORITHM
from altitudeangel_sandbox.store import digest, key

SCOPE_CLAIM = "urn:oauth:scope"


@dataclass(frozen=True)
class AccessToken:
    """What the resource side knows about a presented access token."""

    jti: str
    client_id: str
    subject: str
    scope: str
    expires_at: int
    family: str | None
    jkt: str | None = None

    @property
    def for_user(self) -> bool:
        """Return whether a user signed in for this token (client tokens have no family)."""
        return self.family is not None

    @property
    def scopes(self) -> set[str]:
        """Return the granted scopes as a set."""
        return set(self.scope.split())

    def check_client(self, client: object) -> bool:
        """Return whether ``client`` is the one the token was issued to."""
        return getattr(client, "client_id", None) == self.client_id

    def is_expired(self) -> bool:
        """Return whether the token is past its ``exp``, to the second and without leeway."""
        return time.time() >= self.expires_at


def family_revoked_key(family: str) -> str:
    """Return the key that marks a login's token family as revoked."""
    return key("revoked-family", family)


class AccessTokens:
    """Issue, read and revoke access tokens."""

    def __init__(self, db: redis.Redis, settings: Settings, signing_key: RSAKey):
        self._db = db
        self._settings = settings
        self.signing_key = signing_key

    def issue(
        self, client_id: str, subject: str, scope: str, family: str | None, jkt: str | None = None
    ) -> str:
        """Return a new access token for ``subject`` holding ``scope``, bound to ``jkt`` if any."""
        now = int(time.time())
        token = AccessToken(
            jti=str(uuid.uuid4()),
            client_id=client_id,
            subject=subject,
            scope=scope,
            expires_at=now + self._settings.access_token_ttl,
            family=family,
            jkt=jkt,
        )
        if self._settings.generic:
            return self._issue_opaque(token)
        claims: dict[str, object] = {
            "iss": self._settings.issuer,
            "sub": subject,
            "client_id": client_id,
            "iat": now,
            "exp": token.expires_at,
            "jti": token.jti,
            SCOPE_CLAIM: scope,
        }
        if family is not None:
            claims["sid"] = family
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6.1
        header = {"alg": ALGORITHM, "kid": self.signing_key.kid}
        return jwt.encode(header, claims, self.signing_key, algorithms=[ALGORITHM])

    def _issue_opaque(self, token: AccessToken) -> str:
        value = secrets.token_urlsafe(32)
        record = json.dumps(token.__dict__)
        self._db.set(key("access-token", digest(value)), record, ex=self._settings.access_token_ttl)
        return value

    def read(self, value: str) -> AccessToken | None:
        """Return the token ``value`` stands for if genuine, expired or not; else nothing."""
        if self._settings.generic:
            record = self._db.get(key("access-token", digest(value)))
            return AccessToken(**json.loads(str(record))) if record else None
        return self._read_jwt(value)

    def _read_jwt(self, value: str) -> AccessToken | None:
        try:
            decoded = jwt.decode(value, self.signing_key, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        claims = decoded.claims
        if (
            decoded.header.get("kid") != self.signing_key.kid
            or claims.get("iss") != self._settings.issuer
        ):
            return None
        try:
            return AccessToken(
                jti=str(claims["jti"]),
                client_id=str(claims["client_id"]),
                subject=str(claims["sub"]),
                scope=str(claims[SCOPE_CLAIM]),
                expires_at=int(claims["exp"]),
                family=str(claims["sid"]) if "sid" in claims else None,
                jkt=str(claims["cnf"]["jkt"]) if "cnf" in claims else None,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def is_revoked(self, token: AccessToken) -> bool:
        """Return whether the token or its family was revoked, in one round trip."""
        names = [key("revoked-jti", token.jti)]
        if token.family is not None:
            names.append(family_revoked_key(token.family))
        return bool(self._db.exists(*names))

    def revoke(self, token: AccessToken) -> None:
        """Deny the token from now until it would have expired anyway."""
        remaining = max(1, token.expires_at - int(time.time()) + 1)
        self._db.set(key("revoked-jti", token.jti), "1", ex=remaining)

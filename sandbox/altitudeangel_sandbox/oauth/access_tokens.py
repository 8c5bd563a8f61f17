"""Access tokens: issued as RS256 JWTs (RFC 9068, or the platform's shape) and read back."""

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

from altitudeangel_sandbox.oauth.signing import ALGORITHM
from altitudeangel_sandbox.settings import Settings
from altitudeangel_sandbox.store import digest, key

# The platform's scope claim; RFC 9068 §2.2.3 names it ``scope``.
PLATFORM_SCOPE_CLAIM = "urn:oauth:scope"
SCOPE_CLAIM = "scope"
# RFC 9068 §2.1; §4 lets the media type's full name stand too.
TOKEN_TYPES = ("at+jwt", "application/at+jwt")


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
        if self._settings.opaque_access_tokens:
            return self._issue_opaque(token)
        header, claims = self._jwt_parts(token, now)
        return jwt.encode(header, claims, self.signing_key, algorithms=[ALGORITHM])

    def _jwt_parts(self, token: AccessToken, now: int) -> tuple[dict[str, str], dict[str, object]]:
        """Return the header and claims of ``token`` as a JWT of this mode's shape."""
        header = {"alg": ALGORITHM, "kid": str(self.signing_key.kid)}
        claims: dict[str, object] = {
            "iss": self._settings.issuer,
            "sub": token.subject,
            "client_id": token.client_id,
            "iat": now,
            "exp": token.expires_at,
            "jti": token.jti,
        }
        scope = token.scope
        if self._settings.documented_only:
            claims[PLATFORM_SCOPE_CLAIM] = scope
        else:
            header["typ"] = TOKEN_TYPES[0]
            claims.update(aud=self._settings.audience, scope=scope)
            if not self._settings.generic:
                claims[PLATFORM_SCOPE_CLAIM] = scope
        if token.family is not None:
            claims["sid"] = token.family
        if token.jkt is not None:
            claims["cnf"] = {"jkt": token.jkt}  # RFC 9449 §6.1
        return header, claims

    def _issue_opaque(self, token: AccessToken) -> str:
        value = secrets.token_urlsafe(32)
        record = json.dumps(token.__dict__)
        self._db.set(key("access-token", digest(value)), record, ex=self._settings.access_token_ttl)
        return value

    def read(self, value: str) -> AccessToken | None:
        """Return the token ``value`` stands for if genuine, expired or not; else nothing."""
        if self._settings.opaque_access_tokens:
            record = self._db.get(key("access-token", digest(value)))
            return AccessToken(**json.loads(str(record))) if record else None
        return self._read_jwt(value)

    def _read_jwt(self, value: str) -> AccessToken | None:
        try:
            decoded = jwt.decode(value, self.signing_key, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        claims = decoded.claims
        if decoded.header.get("kid") != self.signing_key.kid:
            return None
        if claims.get("iss") != self._settings.issuer or not self._has_shape(decoded):
            return None
        try:
            return AccessToken(
                jti=str(claims["jti"]),
                client_id=str(claims["client_id"]),
                subject=str(claims["sub"]),
                scope=str(claims[self._scope_claim]),
                expires_at=int(claims["exp"]),
                family=str(claims["sid"]) if "sid" in claims else None,
                jkt=str(claims["cnf"]["jkt"]) if "cnf" in claims else None,
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def _scope_claim(self) -> str:
        return PLATFORM_SCOPE_CLAIM if self._settings.documented_only else SCOPE_CLAIM

    def _has_shape(self, decoded: jwt.Token) -> bool:
        """Return whether a verified JWT is typed and addressed as this mode's tokens are."""
        if self._settings.documented_only:
            return True
        typ = str(decoded.header.get("typ", "")).lower()
        audience = decoded.claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        return typ in TOKEN_TYPES and self._settings.audience in audiences

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

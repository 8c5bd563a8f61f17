"""ID tokens (OpenID Connect Core §2) and logout tokens (Back-Channel Logout 1.0 §2.4).

Both are signed with the key that signs access tokens, which the JWKS publishes; neither is
stored. An ID token says who signed in, in which sandbox session, for which client; a logout
token says that session ended.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from altitudeangel_sandbox.oauth.access_tokens import TOKEN_TYPES
from altitudeangel_sandbox.oauth.sessions import SignIn
from altitudeangel_sandbox.oauth.signing import ALGORITHM
from altitudeangel_sandbox.settings import Settings

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # nosec B105 - a media type (Back-Channel Logout 1.0 §2.4)
LOGOUT_TOKEN_TTL = 120
ID_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "at_hash")


def half_hash(access_token: str) -> str:
    """Return the ``at_hash`` of ``access_token`` for RS256 (Core §3.1.3.6)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


class IdTokens:
    """Sign ID and logout tokens, and read back an ID token the sandbox signed."""

    def __init__(self, settings: Settings, signing_key: RSAKey):
        self._settings = settings
        self._key = signing_key

    def _sign(self, claims: dict[str, Any], typ: str | None = None) -> str:
        header = {"alg": ALGORITHM, "kid": str(self._key.kid)}
        if typ is not None:
            header["typ"] = typ
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def issue(self, client_id: str, subject: str, sign_in: SignIn, access_token: str) -> str:
        """Return the ID token of ``subject`` for ``client_id``, issued with ``access_token``.

        A sign-in's nonce is carried into the token; a refresh's sign-in has none.
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self._settings.issuer,
            "sub": subject,
            "aud": client_id,
            "iat": now,
            "exp": now + self._settings.access_token_ttl,
            "auth_time": sign_in.auth_time,
            "sid": sign_in.sid,
            "at_hash": half_hash(access_token),
        }
        if sign_in.nonce is not None:
            claims["nonce"] = sign_in.nonce
        return self._sign(claims)

    def logout_token(self, client_id: str, subject: str, sid: str) -> str:
        """Return a logout token telling ``client_id`` that session ``sid`` of ``subject`` ended."""
        now = int(time.time())
        claims = {
            "iss": self._settings.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_TTL,
            "jti": str(uuid.uuid4()),
            "sub": subject,
            "sid": sid,
            "events": {BACKCHANNEL_EVENT: {}},
        }
        return self._sign(claims, LOGOUT_TOKEN_TYPE)

    def read(self, value: str) -> dict[str, Any] | None:
        """Return the claims of an ID token this sandbox signed, expired or not; else nothing."""
        try:
            decoded = jwt.decode(value, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        header, claims = decoded.header, decoded.claims
        # Access and logout tokens are signed with the same key and typed as such; ID tokens
        # are plain JWTs.
        typed = str(header.get("typ", "")).lower() in (*TOKEN_TYPES, LOGOUT_TOKEN_TYPE)
        if typed or header.get("kid") != self._key.kid:
            return None
        if claims.get("iss") != self._settings.issuer or "events" in claims:
            return None
        if not isinstance(claims.get("aud"), str) or not isinstance(claims.get("sub"), str):
            return None
        return dict(claims)

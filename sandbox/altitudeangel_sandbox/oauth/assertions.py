"""RFC 7523 private_key_jwt: a client authenticates with a JWT signed by a key it registered."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from altitudeangel_sandbox.oauth.clients import PRIVATE_KEY_JWT, Client
from altitudeangel_sandbox.state import current_sandbox
from altitudeangel_sandbox.store import key

# Asymmetric only: the client's registered keys are public keys.
ALGORITHMS = ("RS256", "PS256", "ES256", "ES384", "EdDSA", "Ed25519")
LEEWAY = 60
# An assertion's jti is remembered until it expires, so an assertion may live at most this long.
MAX_LIFETIME = 3600


class PrivateKeyJWT(JWTBearerClientAssertion):
    """Authlib's client assertion check, with the audiences, keys and jti store of the sandbox."""

    CLIENT_AUTH_METHOD = PRIVATE_KEY_JWT

    def __init__(self) -> None:
        super().__init__(validate_jti=True, leeway=LEEWAY)

    def get_audiences(self) -> list[str]:
        """Accept the issuer, the token endpoint, and at PAR or revocation that endpoint's URL."""
        settings = current_sandbox().settings
        audiences = [settings.issuer, settings.url(settings.paths.token)]
        if request.path in (settings.paths.par, settings.paths.revoke):
            audiences.append(settings.url(request.path))
        return audiences

    def resolve_client_public_key(self, client: Client) -> KeySet:
        """Return the client's registered public keys; a client without any cannot assert."""
        keys: Any = client.public_jwks()
        if not keys or not client.check_endpoint_auth_method(PRIVATE_KEY_JWT, "token"):
            raise InvalidClientError(description="The client cannot authenticate with a JWT.")
        return KeySet.import_key_set(keys)

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        """Verify the signature with the asymmetric algorithms only, then the claims."""
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError) as error:
            raise InvalidClientError(description="The client assertion does not verify.") from error
        self.verify_claims(token.claims)
        return dict(token.claims)

    def verify_claims(self, claims: Any) -> None:
        """Refuse an assertion that would outlive its jti's memory, then check as RFC 7523 says."""
        expires = claims.get("exp")
        if isinstance(expires, int | float) and expires - time.time() > MAX_LIFETIME:
            raise InvalidClientError(description="The client assertion lives too long.")
        super().verify_claims(claims)

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        """Remember the jti per client until the assertion expires; refuse it a second time."""
        name = key(
            "assertion-jti", str(claims["sub"]), hashlib.sha256(str(jti).encode()).hexdigest()
        )
        ttl = max(1, int(claims["exp"] - time.time()) + LEEWAY)
        return bool(current_sandbox().db.set(name, "1", nx=True, ex=ttl))

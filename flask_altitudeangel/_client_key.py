"""The private key a client signs its ``private_key_jwt`` assertions with (RFC 7523)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

ASSERTION_LIFETIME = 60  # seconds
KEY_ALGS = {"EC": {"P-256": "ES256", "P-384": "ES384"}, "RSA": "RS256", "OKP": "EdDSA"}


@dataclass(frozen=True)
class ClientKey:
    """The private key a client signs its assertions with (AA_CLIENT_KEY_FILE)."""

    jwk: Mapping[str, Any]
    alg: str
    kid: str


def read_client_key(path: str, rsa_alg: str = "RS256") -> ClientKey:
    """Read a private key from a PEM or JWK file, and the algorithm it signs with: the key's
    own ``alg`` if its JWK names one, else its curve's, or ``rsa_alg`` for an RSA key.

    Raises ValueError saying what is wrong with the file, for the setting's error message.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot be read: {error.strerror}") from None
    try:
        key = JWKRegistry.import_key(json.loads(data)) if data.lstrip()[:1] == b"{" else _pem(data)
    except (ValueError, TypeError, JoseError):
        raise ValueError("must hold a private key, PEM or JWK") from None
    if not key.is_private:
        raise ValueError("holds a public key; the private one is needed")
    jwk = dict(key.as_dict(private=True))
    algs = {**KEY_ALGS, "RSA": rsa_alg}.get(str(jwk.get("kty")))
    alg = algs.get(str(jwk.get("crv"))) if isinstance(algs, dict) else algs
    if not alg:
        raise ValueError("must be an EC (P-256, P-384), RSA or Ed25519 key")
    kid = str(jwk.get("kid") or key.thumbprint())
    return ClientKey(jwk, str(jwk.get("alg") or alg), kid)


def _pem(data: bytes) -> Any:
    for kind in (ECKey, RSAKey, OKPKey):
        try:
            return kind.import_key(data)
        except (ValueError, TypeError, JoseError):
            continue
    raise ValueError("not a key this app can sign with")


class ClientAssertion(PrivateKeyJWT):
    """Sign ``private_key_jwt`` assertions (RFC 7523 §3) that live a minute, each its own ``jti``.

    Authlib's own live an hour: a copy caught in a log or a proxy would authenticate as this
    client for that long, and a server must remember every ``jti`` as long as it may be used.
    One ``aud`` serves every endpoint: the issuer identifier when the server publishes one (as
    FAPI 2.0 asks, so no endpoint can take an assertion meant for another server), else the
    token endpoint (RFC 7523 §3).
    """

    def __init__(self, key: ClientKey, audience: str) -> None:
        super().__init__(audience, alg=key.alg)
        self._key = JWKRegistry.import_key(dict(key.jwk))
        self._kid = key.kid
        self._audience = audience

    def sign(self, auth: Any, token_endpoint: str) -> str:
        """Return a fresh assertion for the client; its audience is fixed, whatever the endpoint."""
        now = int(time.time())
        claims = {
            "iss": auth.client_id,
            "sub": auth.client_id,
            "aud": self._audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
            "jti": secrets.token_urlsafe(24),
        }
        return jwt.encode({"alg": self.alg, "kid": self._kid}, claims, self._key, [self.alg])

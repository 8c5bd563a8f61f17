"""The private key a client signs its ``private_key_jwt`` assertions with (RFC 7523)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

KEY_ALGS = {"EC": {"P-256": "ES256", "P-384": "ES384"}, "RSA": "RS256", "OKP": "EdDSA"}


@dataclass(frozen=True)
class ClientKey:
    """The private key a client signs its assertions with (AA_CLIENT_KEY_FILE)."""

    jwk: Mapping[str, Any]
    alg: str
    kid: str


def read_client_key(path: str) -> ClientKey:
    """Read a private key from a PEM or JWK file, and the algorithm it signs with.

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
    algs = KEY_ALGS.get(str(jwk.get("kty")))
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

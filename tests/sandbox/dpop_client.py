"""A DPoP client for the tests: a key pair, proofs made from it, and requests that carry them."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
import warnings
from typing import Any
from urllib.parse import urlsplit

import requests
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tests.sandbox.flow import TIMEOUT

KEY_MAKERS = {
    "ES256": lambda: ECKey.generate_key("P-256"),
    "ES384": lambda: ECKey.generate_key("P-384"),
    "RS256": lambda: RSAKey.generate_key(2048),
    "PS256": lambda: RSAKey.generate_key(2048),
    "EdDSA": lambda: OKPKey.generate_key("Ed25519"),
}
DELETE = object()


class ProofRegistry(jws.JWSRegistry):
    """joserfc's registry with room for an RSA key in the header, and every algorithm."""

    max_header_length = 4096


REGISTRY = ProofRegistry(algorithms=[*KEY_MAKERS, "HS256", "none"])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """Compute the RFC 7638 SHA-256 thumbprint by hand, independently of the sandbox's code."""
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    required = {name: jwk[name] for name in members[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return b64(hashlib.sha256(canonical.encode()).digest())


class DPoPKey:
    """One client key pair and the proofs it signs."""

    def __init__(self, alg: str = "ES256"):
        self.alg = alg
        self.key = KEY_MAKERS[alg]()
        self.public = self.key.as_dict(private=False)
        self.jkt = thumbprint(self.public)

    def proof(
        self,
        method: str,
        url: str,
        access_token: str | None = None,
        nonce: str | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """Sign a proof for ``method url``; ``header`` and ``claims`` override (DELETE drops)."""
        fields: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if access_token is not None:
            fields["ath"] = b64(hashlib.sha256(access_token.encode()).digest())
        if nonce is not None:
            fields["nonce"] = nonce
        head = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public, **(header or {})}
        return self.sign(_without(head), _without({**fields, **claims}))

    def sign(self, header: dict[str, Any], claims: dict[str, Any], key: Any = None) -> str:
        """Sign ``claims`` under ``header`` with this key (or ``key``)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)  # EdDSA's RFC 9864 rename
            return jws.serialize_compact(
                header, json.dumps(claims), key or self.key, registry=REGISTRY
            )


def _without(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not DELETE}


def endpoint(url: str) -> str:
    """Return ``url`` as a proof's htu: without the query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def dpop_api(
    base_url: str,
    method: str,
    path: str,
    token: str,
    key: DPoPKey | None,
    scheme: str = "DPoP",
    **proof_options: Any,
) -> requests.Response:
    """Call the API with ``scheme token`` and, with a key, a proof for this very request."""
    url = base_url + path
    headers = {"Authorization": f"{scheme} {token}"}
    if key is not None:
        headers["DPoP"] = key.proof(method, endpoint(url), access_token=token, **proof_options)
    return requests.request(method, url, headers=headers, timeout=TIMEOUT)


def proof_header(key: DPoPKey, url: str, **proof_options: Any) -> dict[str, str]:
    """Return the DPoP header of a token endpoint request to ``url``."""
    return {"DPoP": key.proof("POST", url, **proof_options)}

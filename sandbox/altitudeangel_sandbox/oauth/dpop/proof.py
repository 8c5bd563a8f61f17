"""RFC 9449 DPoP proofs: check one against the request it came with, once, and name its key."""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import JWKRegistry
from joserfc.util import urlsafe_b64encode

PROOF_TYPE = "dpop+jwt"
# Asymmetric only (RFC 9449 §4.2). EdDSA is the name clients use for Ed25519.
ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "EdDSA", "Ed25519")
IAT_WINDOW = 60
DEFAULT_PORTS = {"http": 80, "https": 443}


class DPoPError(Exception):
    """A proof is missing, malformed or wrong (``invalid_dpop_proof``) or lacks a nonce."""

    def __init__(self, description: str, error: str = "invalid_dpop_proof"):
        super().__init__(description)
        self.error = error
        self.description = description


class ProofRegistry(jws.JWSRegistry):
    """joserfc's registry with room for an RSA key in the header."""

    max_header_length = 4096


REGISTRY = ProofRegistry(algorithms=list(ALGORITHMS))


def token_hash(access_token: str) -> str:
    """Return ``ath``: the base64url SHA-256 of the access token (RFC 9449 §4.2)."""
    return urlsafe_b64encode(hashlib.sha256(access_token.encode("ascii")).digest()).decode()


def normalized_url(url: str) -> str:
    """Return ``url`` without query or fragment, scheme and host lower case, no default port."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{port}{parts.path or '/'}"


def _header_and_key(proof: str) -> tuple[dict[str, Any], Any]:
    try:
        header = jws.extract_compact(proof.encode("ascii"), registry=REGISTRY).headers()
    except (JoseError, ValueError, UnicodeError):
        raise DPoPError("The DPoP proof is not a compact JWS.") from None
    if header.get("typ") != PROOF_TYPE:
        raise DPoPError(f"The DPoP proof's typ must be {PROOF_TYPE}.")
    if header.get("alg") not in ALGORITHMS:
        raise DPoPError(f"The DPoP proof's alg must be one of {' '.join(ALGORITHMS)}.")
    jwk = header.get("jwk")
    try:
        key = JWKRegistry.import_key(jwk) if isinstance(jwk, dict) else None
    except (JoseError, ValueError, TypeError):
        key = None
    if key is None or key.key_type not in ("RSA", "EC", "OKP"):
        raise DPoPError("The DPoP proof's jwk header must hold an asymmetric public key.")
    if key.is_private:
        raise DPoPError("The DPoP proof's jwk header must not hold a private key.")
    return header, key


def _claims(proof: str, header: dict[str, Any], key: Any) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():
            # RFC 9864 renames EdDSA to Ed25519; clients still send EdDSA, which is the same.
            warnings.simplefilter("ignore", SecurityWarning)
            verified = jws.deserialize_compact(proof, key, [header["alg"]], registry=REGISTRY)
        claims = json.loads(verified.payload)
    except (JoseError, ValueError):
        raise DPoPError("The DPoP proof's signature does not verify with its jwk.") from None
    if not isinstance(claims, dict):
        raise DPoPError("The DPoP proof's payload is not a JSON object.")
    return claims


def _check_claims(claims: dict[str, Any], method: str, urls: list[str], ath: str | None) -> None:
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise DPoPError("The DPoP proof needs a jti.")
    if claims.get("htm") != method:
        raise DPoPError(f"The DPoP proof's htm must be {method}.")
    htu = claims.get("htu")
    if not isinstance(htu, str) or normalized_url(htu) not in map(normalized_url, urls):
        raise DPoPError("The DPoP proof's htu is not this endpoint's URL.")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise DPoPError("The DPoP proof needs an iat.")
    if abs(time.time() - iat) > IAT_WINDOW:
        raise DPoPError(f"The DPoP proof's iat is more than {IAT_WINDOW} seconds off.")
    if ath is not None and claims.get("ath") != ath:
        raise DPoPError("The DPoP proof's ath is not the hash of the access token.")


def verify_proof(
    proof: str,
    method: str,
    urls: list[str],
    ath: str | None,
    nonce_ok: Callable[[Any], bool] | None,
) -> tuple[str, str]:
    """Check a proof for this request; return its key's RFC 7638 thumbprint and its jti."""
    header, key = _header_and_key(proof)
    claims = _claims(proof, header, key)
    _check_claims(claims, method, urls, ath)
    if nonce_ok is not None and not nonce_ok(claims.get("nonce")):
        raise DPoPError("A DPoP nonce from this server is required.", "use_dpop_nonce")
    return str(key.thumbprint()), str(claims["jti"])

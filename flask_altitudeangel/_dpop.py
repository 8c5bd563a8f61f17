"""DPoP (RFC 9449): a key per login, a fresh proof for every request, and the server's nonces.

An access token bound to a key is worthless without it: the key is made on the server at
sign-in, kept encrypted with the login's tokens, and never sent to the browser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import ECKey

from flask_altitudeangel.records import Details, shown

ALG = "ES256"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class DPoPKey:
    """A P-256 key pair that proves possession of the tokens bound to it."""

    key: ECKey

    @classmethod
    def generate(cls) -> DPoPKey:
        return cls(ECKey.generate_key("P-256", private=True))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> DPoPKey:
        return cls(ECKey.import_key(dict(jwk)))

    def private_jwk(self) -> dict[str, Any]:
        """The key to store (encrypted, with the tokens it binds)."""
        return dict(self.key.as_dict(private=True))

    @property
    def thumbprint(self) -> str:
        """RFC 7638 thumbprint: the ``jkt`` a bound token names."""
        return str(self.key.thumbprint())

    def proof(self, method: str, url: str, access_token: str | None, server: ServerHints) -> str:
        """Return a proof for one request (RFC 9449 §4.2), never to be used again."""
        parts = urlsplit(url)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            "iat": int(time.time() + server.clock_offset(url)),
        }
        nonce = server.nonce(url)
        if access_token is not None:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
        if nonce:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": ALG, "jwk": self.key.as_dict(private=False)}
        return str(jwt.encode(header, claims, self.key))


class ServerHints:
    """What each server told this process that proofs depend on, by origin: its latest nonce
    (RFC 9449 §8, §9) and how far its clock is from ours (from its ``Date`` header), so that a
    proof's ``iat`` is in the server's window even when this machine's clock is not."""

    def __init__(self) -> None:
        self._nonces: dict[str, str] = {}
        self._offsets: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def nonce(self, url: str) -> str | None:
        return self._nonces.get(self._origin(url))

    def clock_offset(self, url: str) -> float:
        return self._offsets.get(self._origin(url), 0.0)

    def note(self, url: str, headers: Mapping[str, str]) -> None:
        """Remember the nonce and the clock of a server's answer."""
        origin = self._origin(url)
        nonce = headers.get("DPoP-Nonce")
        with self._lock:
            if nonce and len(nonce) <= 512 and nonce.isprintable():
                self._nonces[origin] = nonce
            offset = _clock_offset(headers.get("Date"))
            if offset is not None:
                self._offsets[origin] = offset


def _clock_offset(date: str | None) -> float | None:
    """Return the server's time minus ours, when it is off by more than a second or two."""
    try:
        server = parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        return None
    if server is None:
        return None
    offset = server - time.time()
    return offset if abs(offset) > 2 else 0.0


def describe_jwt(token: str, what: str) -> Details:
    """Describe a signed JWT for the flow page: its header and claims, its signature shortened."""
    try:
        head, body, signature = token.split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return ((what, "(not a JWT)"),)
    if isinstance(header.get("jwk"), dict):
        jwk = header["jwk"]
        header = {**header, "jwk": f"{jwk.get('kty')} {jwk.get('crv', '')} public key".strip()}
    shortened = {
        k: shown(str(v), 8) if k in ("jti", "ath", "nonce") else v for k, v in claims.items()
    }
    return (
        (f"{what} header", json.dumps(header, sort_keys=True)),
        (f"{what} claims", json.dumps(shortened, sort_keys=True)),
        (f"{what} signature", shown(signature, 8)),
    )

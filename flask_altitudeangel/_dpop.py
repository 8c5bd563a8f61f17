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
from functools import cached_property, lru_cache
from json.encoder import encode_basestring_ascii as quote
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc.jwk import ECKey

from flask_altitudeangel.records import Details, shown

ALG = "ES256"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Proof:
    """A proof for one request, and how the flow page shows it (header, claims, signature)."""

    token: str
    shown: Details


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
        return self.prove(method, url, access_token, server).token

    def prove(self, method: str, url: str, access_token: str | None, server: ServerHints) -> Proof:
        """Return a proof for one request, with what the flow page shows of it.

        Signed with the key itself: the header is the same for every proof of a key and is
        encoded once, and nothing this builds is checked again as if it came from elsewhere.
        """
        origin = _origin(url)
        ath = None if access_token is None else _ath(access_token)
        claims = _Claims(
            jti=secrets.token_urlsafe(16),
            htm=method.upper(),
            htu=_without_query(url),
            iat=int(time.time() + server.clock_offset_at(origin)),
            ath=ath,
            nonce=server.nonce_at(origin) or None,
        )
        signer = self._signer
        signed = f"{signer.header}.{_b64(claims.json().encode())}"
        r, s = decode_dss_signature(signer.private.sign(signed.encode(), _ES256))
        signature = _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        shown = _described("DPoP proof", signer.header_shown, claims.shown(), signature)
        return Proof(f"{signed}.{signature}", shown)

    @cached_property
    def _signer(self) -> _Signer:
        header = {"typ": "dpop+jwt", "alg": ALG, "jwk": self.key.as_dict(private=False)}
        encoded = _b64(json.dumps(header, separators=(",", ":")).encode())
        private = self.key.private_key
        if private is None:
            raise ValueError("a DPoP key needs its private half to sign proofs")
        return _Signer(private, encoded, _header_shown(header))


@dataclass(frozen=True)
class _Signer:
    """What signing a key's proofs needs, made once per key."""

    private: ec.EllipticCurvePrivateKey
    header: str  # the protected header, base64url-encoded JSON
    header_shown: str  # the header as the flow page shows it


_ES256 = ec.ECDSA(hashes.SHA256())


@dataclass(frozen=True)
class _Claims:
    """A proof's claims, written as JSON by hand: json.dumps takes ~25,000 instructions for
    them, most of it setting up its encoder. Only the method, the URL and the nonce can need
    escaping (with the function json.dumps uses): jti and ath are base64url."""

    jti: str
    htm: str
    htu: str
    iat: int
    ath: str | None
    nonce: str | None

    def json(self) -> str:
        """The claims as the proof carries them: compact, in this order."""
        text = f'{{"jti":"{self.jti}","htm":{quote(self.htm)},"htu":{quote(self.htu)}'
        text += f',"iat":{self.iat:d}'
        if self.ath is not None:
            text += f',"ath":"{self.ath}"'
        if self.nonce is not None:
            text += f',"nonce":{quote(self.nonce)}'
        return text + "}"

    def shown(self) -> str:
        """The claims as describe_jwt shows a proof's: sorted, one-time values shortened."""
        text = "{"
        if self.ath is not None:
            text += f'"ath": "{self.ath[:8]}\\u2026 ({len(self.ath)} chars)", '
        text += f'"htm": {quote(self.htm)}, "htu": {quote(self.htu)}, "iat": {self.iat:d}, '
        text += f'"jti": "{self.jti[:8]}\\u2026 ({len(self.jti)} chars)"'
        if self.nonce is not None:
            text += f', "nonce": {quote(shown(self.nonce, 8))}'
        return text + "}"


@lru_cache(maxsize=256)
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=256)
def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@lru_cache(maxsize=64)
def _ath(access_token: str) -> str:
    """The access token's hash a proof carries: the same token on every call until a refresh."""
    return _b64(hashlib.sha256(access_token.encode()).digest())


class ServerHints:
    """What each server told this process that proofs depend on, by origin: its latest nonce
    (RFC 9449 §8, §9) and how far its clock is from ours (from its ``Date`` header), so that a
    proof's ``iat`` is in the server's window even when this machine's clock is not."""

    def __init__(self) -> None:
        self._nonces: dict[str, str] = {}
        self._offsets: dict[str, float] = {}
        self._dates: dict[str, str | None] = {}  # the Date header the offset was read from
        self._lock = threading.Lock()

    def nonce(self, url: str) -> str | None:
        return self.nonce_at(_origin(url))

    def clock_offset(self, url: str) -> float:
        return self.clock_offset_at(_origin(url))

    def nonce_at(self, origin: str) -> str | None:
        return self._nonces.get(origin)

    def clock_offset_at(self, origin: str) -> float:
        return self._offsets.get(origin, 0.0)

    def note(self, url: str, headers: Mapping[str, str]) -> None:
        """Remember the nonce and the clock of a server's answer.

        The ``Date`` header changes once a second, and is read only when it has changed.
        """
        origin = _origin(url)
        nonce = headers.get("DPoP-Nonce")
        date = headers.get("Date")
        with self._lock:
            if nonce and len(nonce) <= 512 and nonce.isprintable():
                self._nonces[origin] = nonce
            if origin in self._dates and self._dates[origin] == date:
                return
            self._dates[origin] = date
            offset = _clock_offset(date)
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
    shown_claims = json.dumps(_shortened(claims), sort_keys=True)
    return _described(what, _header_shown(header), shown_claims, signature)


def _header_shown(header: dict[str, Any]) -> str:
    if isinstance(header.get("jwk"), dict):
        jwk = header["jwk"]
        header = {**header, "jwk": f"{jwk.get('kty')} {jwk.get('crv', '')} public key".strip()}
    return json.dumps(header, sort_keys=True)


# Claims that are one-time values, or name a session or a token: shown by their first characters.
SHORTENED_CLAIMS = {"jti", "ath", "nonce", "sid", "at_hash", "c_hash", "s_hash"}


def _shortened(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: shown(str(v), 8) if k in SHORTENED_CLAIMS else v for k, v in claims.items()}


def _described(what: str, header: str, claims: str, signature: str) -> Details:
    return (
        (f"{what} header", header),
        (f"{what} claims", claims),
        (f"{what} signature", shown(signature, 8)),
    )

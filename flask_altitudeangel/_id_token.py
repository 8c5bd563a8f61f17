"""ID tokens and logout tokens: JWTs the provider signs, checked against the keys it publishes.

An ID token that comes with a sign-in is checked as OpenID Connect Core §3.1.3.7 says, one that
comes with a refresh as §12.2 says (the same user, the sign-in's nonce if any), and a logout
token as Back-Channel Logout 1.0 §2.6 says. Every check that fails names itself
(``TokenRefused.check``); nothing is stored from a token that failed one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from flask_altitudeangel._config import Config
from flask_altitudeangel._profile import algorithms
from flask_altitudeangel._provider_keys import ProviderKeys, TokenRefused

LEEWAY = 60  # seconds two clocks may disagree by
LOGOUT_TOKEN_MAX_AGE = 600  # seconds a logout token is accepted after it was issued
MAX_LENGTH = 16_384  # characters; no honest ID token comes near
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TYPES = {"jwt", "logout+jwt", "application/logout+jwt"}
# OpenID Connect's default for id_token_signed_response_alg, when the metadata lists none.
DEFAULT_ALGORITHMS = ("RS256",)

__all__ = ["IdToken", "IdTokenChecker", "TokenRefused"]


@dataclass(frozen=True)
class IdToken:
    """An ID token that passed every check, and its claims."""

    raw: str
    claims: dict[str, Any]


class IdTokenChecker:
    """Check the provider's ID and logout tokens for this client."""

    def __init__(
        self, config: Config | Callable[[], Config], keys: ProviderKeys | None = None
    ) -> None:
        # A callable gives the config once the server's metadata is known (``Server.ready``):
        # the issuer, the algorithms and the key set are the metadata's.
        self._source = config if callable(config) else lambda: config
        self._given_keys = keys
        self._made: tuple[Config, ProviderKeys] | None = None

    @property
    def _config(self) -> Config:
        return self._source()

    @property
    def _client_id(self) -> str:
        return self._config.client_id

    @property
    def _issuer(self) -> str:
        config = self._config
        return config.issuer or config.auth_url

    @property
    def _algorithms(self) -> frozenset[str]:
        config = self._config
        return algorithms(config, signing_algorithms(config.metadata))

    @property
    def _keys(self) -> ProviderKeys:
        config = self._config
        if self._made is None or self._made[0] is not config:
            timeout = (config.http_connect_timeout, config.http_read_timeout)
            keys = self._given_keys or ProviderKeys(config.jwks_uri, timeout)
            self._made = (config, keys)
        return self._made[1]

    def of_sign_in(self, raw: Any, access_token: str, nonce: str) -> IdToken:
        """Check the ID token of a code exchange: ``nonce`` is the one this sign-in sent."""
        header, claims = self._verified(raw)
        self._check_identity(claims)
        if "nonce" in claims or nonce:
            _same(claims.get("nonce"), nonce, "nonce")
        _check_at_hash(claims, header["alg"], access_token)
        return IdToken(str(raw), claims)

    def of_refresh(self, raw: Any, access_token: str, first: Mapping[str, Any] | None) -> IdToken:
        """Check a refreshed ID token against the sign-in's: the same user, the same nonce.

        ``first`` is None when the sign-in had no ID token: there is nothing to compare with.
        """
        header, claims = self._verified(raw)
        self._check_identity(claims)
        if first is not None:
            _same(claims["sub"], first.get("sub"), "subject")
            if "nonce" in claims:
                _same(claims["nonce"], first.get("nonce"), "nonce")
        _check_at_hash(claims, header["alg"], access_token)
        return IdToken(str(raw), claims)

    def logout_token(self, raw: Any) -> dict[str, Any]:
        """Check a back-channel logout token, all but its ``jti`` being new; return its claims."""
        header, claims = self._verified(raw)
        typ = header.get("typ")
        if typ is not None and str(typ).lower() not in LOGOUT_TYPES:
            raise TokenRefused("typ")
        self._check_issuer(claims)
        self._check_audience(claims, azp=False)
        now = time.time()
        iat = _number(claims.get("iat"))
        if iat is None or not now - LOGOUT_TOKEN_MAX_AGE <= iat <= now + LEEWAY:
            raise TokenRefused("iat")
        exp = _number(claims.get("exp"))
        if "exp" in claims and (exp is None or now > exp + LEEWAY):
            raise TokenRefused("expired")
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise TokenRefused("events")
        if "nonce" in claims:
            raise TokenRefused("nonce")
        if not _text(claims.get("jti")):
            raise TokenRefused("jti")
        named = [claims[name] for name in ("sub", "sid") if name in claims]
        if not named or not all(_text(value) for value in named):
            raise TokenRefused("sub_or_sid")
        return claims

    def _verified(self, raw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the signature with the provider's key for it; return the header and claims."""
        if not isinstance(raw, str) or len(raw) > MAX_LENGTH or raw.count(".") != 2:
            raise TokenRefused("malformed")
        try:
            signed = jws.extract_compact(raw.encode())
            header = signed.headers()
            claims = json.loads(signed.payload)
        except (JoseError, ValueError, UnicodeDecodeError):
            raise TokenRefused("malformed") from None
        if not isinstance(claims, dict):
            raise TokenRefused("malformed")
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise TokenRefused("algorithm")  # never "none", nor one the provider does not use
        key = self._keys.key_for(header.get("kid"), str(alg))
        try:
            valid = jws.validate_compact(signed, key, [str(alg)])
        except JoseError:
            valid = False
        if not valid:
            raise TokenRefused("signature")
        return dict(header), claims

    def _check_identity(self, claims: dict[str, Any]) -> None:
        """Check what every ID token must hold: who issued it, for whom, when, about whom."""
        self._check_issuer(claims)
        self._check_audience(claims, azp=True)
        now = time.time()
        exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
        if exp is None or now > exp + LEEWAY:
            raise TokenRefused("expired")
        if iat is None or iat > now + LEEWAY:
            raise TokenRefused("iat")
        if not _text(claims.get("sub")):
            raise TokenRefused("subject")

    def _check_issuer(self, claims: dict[str, Any]) -> None:
        issuer = claims.get("iss")
        # The issuer setting loses a trailing slash (as AA_AUTH_URL does); so does the claim.
        _same(issuer.rstrip("/") if isinstance(issuer, str) else None, self._issuer, "issuer")

    def _check_audience(self, claims: dict[str, Any], azp: bool) -> None:
        aud = claims.get("aud")
        audience = [aud] if isinstance(aud, str) else aud
        if not isinstance(audience, list) or self._client_id not in audience:
            raise TokenRefused("audience")
        if not azp:
            return
        # Core §3.1.3.7 (4, 5): with several audiences the client is named the authorized party.
        if len(audience) > 1 or "azp" in claims:
            _same(claims.get("azp"), self._client_id, "azp")


def signing_algorithms(metadata: Mapping[str, Any]) -> frozenset[str]:
    """Return the algorithms a token may be signed with: the provider's, none symmetric."""
    listed = metadata.get("id_token_signing_alg_values_supported")
    names = listed if isinstance(listed, list) and listed else DEFAULT_ALGORITHMS
    known = jws.JWSRegistry.algorithms
    # "none" is no signature; HS* would take the client secret as the key, not the JWKS.
    return frozenset(
        str(n) for n in names if n in known and n != "none" and not str(n).startswith("HS")
    )


def half_hash(value: str, alg: str) -> str | None:
    """Return the left half of ``value``'s hash for ``alg``, base64url (``at_hash``), or None."""
    if alg in ("EdDSA", "Ed25519"):
        digest = hashlib.sha512(value.encode()).digest()
    elif alg[2:] in ("256", "384", "512"):
        digest = hashlib.new(f"sha{alg[2:]}", value.encode()).digest()
    else:
        return None
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _check_at_hash(claims: dict[str, Any], alg: str, access_token: str) -> None:
    if "at_hash" not in claims:
        return
    expected = half_hash(access_token, alg) if access_token else None
    _same(claims["at_hash"], expected, "at_hash")


def _same(given: Any, expected: Any, check: str) -> None:
    """Compare two strings in constant time; anything else, or a difference, fails ``check``."""
    if not (_text(given) and _text(expected)):
        raise TokenRefused(check)
    if not hmac.compare_digest(str(given).encode(), str(expected).encode()):
        raise TokenRefused(check)


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _number(value: Any) -> float | None:
    """Return a NumericDate claim's value, or None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

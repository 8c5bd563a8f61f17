"""What the lifecycle keeps of a login's tokens and of the app's own token."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_altitudeangel._id_token import IdToken

CLIENT_TOKEN_MARGIN = 60  # seconds before expiry a client token is fetched again
CLIENT_TOKEN = "client-token"  # nosec B105 - the name of its lock and its key


class UnsupportedTokenType(ValueError):
    """The token endpoint answered with a token type other than Bearer."""


@dataclass(frozen=True)
class UserToken:
    """A user's tokens as the app keeps them; ``expires_at`` is an absolute Unix time."""

    access_token: str
    refresh_token: str | None
    scope: str
    expires_at: int | None
    lifetime: int | None  # the expires_in the server gave, for the refresh margin cap
    obtained_at: int
    refreshed_at: int | None = None
    token_type: str = "Bearer"
    dpop_jwk: dict[str, Any] | None = None  # the private key a DPoP-bound token needs
    version: int = 0
    id_token: str | None = None  # the latest checked ID token, for id_token_hint
    id_claims: dict[str, Any] | None = None  # its claims: who signed in (sub), where (sid)

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    def needs_refresh(self, now: float, margin: float, jitter: float = 0.0) -> bool:
        """Tell whether the token is within the refresh margin (capped at half its lifetime).

        ``jitter``, a fraction of the margin, spreads the refreshes of many logins apart.
        """
        if self.expires_at is None:
            return False
        if self.lifetime is not None:
            margin = min(margin, self.lifetime / 2)
        return now >= self.expires_at - margin * (1 + jitter)


def token_from_response(
    response: Mapping[str, Any],
    requested_scope: str,
    previous: UserToken | None = None,
    dpop_jwk: dict[str, Any] | None = None,
    identity: IdToken | None = None,
) -> UserToken:
    """Build a UserToken from a token endpoint response, as received now.

    Expiry is computed from ``expires_in`` at receipt, so a clock that differs from the
    server's does not matter. A refresh response without a refresh token keeps the old one.
    A DPoP token keeps the key it is bound to; a server that ignored the proof and answered
    with a Bearer token gets it used as one (RFC 9449 §5). ``identity`` is the response's
    ID token, checked; without one, a refreshed token keeps the sign-in's.
    """
    token_type = str(response.get("token_type", "")).lower()
    if token_type == "dpop" and dpop_jwk is not None:  # nosec B105 - a token type
        kind, key = "DPoP", dpop_jwk
    elif token_type == "bearer":  # nosec B105 - a token type, not a secret
        kind, key = "Bearer", None
    else:
        raise UnsupportedTokenType(f"unsupported token type {token_type!r}")
    now = int(time.time())
    lifetime = _positive_int(response.get("expires_in"))
    refresh_token = response.get("refresh_token") or (previous and previous.refresh_token)
    scope = response.get("scope") or (previous.scope if previous else requested_scope)
    if isinstance(scope, list):
        scope = " ".join(scope)
    return UserToken(
        access_token=str(response["access_token"]),
        refresh_token=refresh_token or None,
        scope=str(scope),
        expires_at=now + lifetime if lifetime is not None else None,
        lifetime=lifetime,
        obtained_at=previous.obtained_at if previous else now,
        refreshed_at=now if previous else None,
        token_type=kind,
        dpop_jwk=key,
        version=previous.version if previous else 0,
        id_token=identity.raw if identity else (previous.id_token if previous else None),
        id_claims=identity.claims if identity else (previous.id_claims if previous else None),
    )


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@dataclass(frozen=True)
class ClientToken:
    """The app's client-credentials token; ``expires_at`` is an absolute Unix time."""

    access_token: str
    expires_at: float
    lifetime: int
    token_type: str = "Bearer"
    dpop_jwk: dict[str, Any] | None = None  # the app's key, when the token is DPoP-bound

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - min(CLIENT_TOKEN_MARGIN, self.lifetime // 2)

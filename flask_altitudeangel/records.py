"""What the extension tells a host app: plain, frozen records that never hold a whole secret."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Details = tuple[tuple[str, str], ...]  # (name, value as shown) pairs, secrets shortened

# Claims that identify the token itself: shown shortened, so no page holds a usable token.
SHOWN_SHORTENED = {"jti", "sid"}


def shown(value: str | None, keep: int = 6) -> str:
    """Show the start of a one-time value, enough to recognise it, never enough to use it."""
    if not value:
        return "(none)"
    return f"{value[:keep]}… ({len(value)} chars)"


def fingerprint(token: str) -> str:
    """Name a token by kind and a short hash, so two tokens can be told apart on a page."""
    kind = "JWT" if token.count(".") == 2 else "opaque"
    return f"{kind}, sha256 {hashlib.sha256(token.encode()).hexdigest()[:10]}"


def peek_claims(token: str) -> dict[str, Any] | None:
    """Return a JWT's claims for display, or None for an opaque token.

    The signature is not checked: the claims are only shown. The API, which accepts or refuses
    the token, is the one that verifies it.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    return {k: (str(v)[:8] + "…" if k in SHOWN_SHORTENED else v) for k, v in claims.items()}


@dataclass(frozen=True)
class Login:
    """The signed-in user of this request, as this app knows them."""

    login_id: str  # random, names the stored tokens; not the user's identity
    display_name: str  # for pages: "first last" from the profile, else the e-mail, else a stand-in
    aa_id: str  # the user's Altitude Angel id, when their profile could be read
    signed_in_at: int
    seen_at: int
    sub: str = ""  # the ID token's subject: the user, at the provider; "" without an ID token
    sid: str = ""  # the ID token's session id at the provider, when it gave one
    # The latest ID token's claims, every check passed; empty without an ID token.
    id_token_claims: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def user_name(self) -> str:
        """Return the display name (this field's former name, kept working)."""
        return self.display_name


@dataclass(frozen=True)
class TokenFacts:
    """Facts about the stored tokens of a login, never the tokens themselves."""

    scopes: tuple[str, ...]
    token_type: str
    expires_at: int | None
    obtained_at: int
    refreshed_at: int | None
    has_refresh_token: bool
    version: int
    claims: dict[str, Any] | None  # the access token's claims when it is a JWT, shortened


@dataclass(frozen=True)
class Refresh:
    """What one request did about a refresh."""

    reason: str  # "proactive" (about to expire) or "rejected" (the API answered 401)
    role: str  # "refreshed", "waited" or "already_fresh"
    seconds: float
    version: int
    access_token: str  # a fingerprint of the new access token
    sent: Details = ()  # always empty now: the refresh's messages are told by protocol_message


@dataclass(frozen=True)
class CodeExchange:
    """One sign-in, from the authorization request to the token response, every secret shortened."""

    started_at: float  # when the sign-in began at /login
    received_at: float  # when the callback arrived
    authorization_request: Details
    callback: Details
    token_request: Details
    token_response: Details
    requested_scope: str
    granted_scope: str
    issuer_checked: bool
    consented: bool
    seconds: float  # the token request's round trip
    extra: dict[str, Details] = field(default_factory=dict)  # empty: see protocol_message


@dataclass(frozen=True)
class ApiCall:
    """One call to an API."""

    operation: str
    method: str
    path: str
    status: str  # the HTTP status, or "error" when there was no answer
    seconds: float
    token_kind: str  # "user" or "client"
    proof: Details = ()  # the DPoP proof it carried, shortened


@dataclass(frozen=True)
class ProtocolMessage:
    """One protocol message the extension sent or received, every secret in it shortened.

    ``name`` is one of ``authorization_request``, ``authorization_response`` (the callback),
    ``pushed_authorization_request``/``_response``, ``token_request``/``_response`` (the
    code exchange, a refresh or the client-credentials token: ``operation`` is the grant
    type), ``revocation_request``/``_response``, ``api_request``/``_response`` (``operation``
    names the call), ``end_session_request`` and ``backchannel_logout_request``/``_response``
    (a logout token the provider posted, and the app's answer).
    """

    name: str
    direction: str  # "sent" or "received"
    endpoint: str  # the URL it went to or came from, without its query
    details: Details  # (name, value as shown) pairs, in the order they are best read
    at: float = field(default_factory=time.time)  # when it was sent or received
    operation: str = ""  # a token request's grant type, an API call's operation
    status: str = ""  # a response's HTTP status, or "error" when none came
    seconds: float | None = None  # a response's round trip
    credential: str = ""  # whose token an API request carried: "user" or "client"
    attempt: str = ""  # the sign-in attempt of an authorization request or response

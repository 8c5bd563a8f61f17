"""The Authlib authorization server: its grants, token issuing, and the token and revoke views."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, unquote_plus

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidClientError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, Response, g, request

from altitudeangel_sandbox.oauth.access_tokens import AccessToken
from altitudeangel_sandbox.oauth.clients import GRANT_TYPES, OPENID, TOKEN_AUTH_METHODS, Client
from altitudeangel_sandbox.oauth.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    S256CodeChallenge,
    TokenOwner,
)
from altitudeangel_sandbox.oauth.refresh_grant import RefreshTokenGrant
from altitudeangel_sandbox.oauth.refresh_tokens import RefreshToken
from altitudeangel_sandbox.oauth.sessions import SignIn
from altitudeangel_sandbox.settings import Settings
from altitudeangel_sandbox.state import SandboxState, current_sandbox

BEARER = "Bearer"
DPOP = "DPoP"
ACCESS_HINT = "access_token"


class SandboxAuthorizationServer(AuthorizationServer):
    """Authlib's server with RFC 6749 §5.2 answers: a failed client authentication is a 401."""

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        """Answer every ``invalid_client`` with 401, whichever way the client authenticated."""
        if isinstance(error, InvalidClientError):
            error.status_code = 401
        response: Response = super().handle_error_response(request, error)
        return response


class Issuer(IssuerParameter):
    """RFC 9207: name the issuer in authorization responses, unless switched off."""

    def __init__(self, settings: Settings):
        self._settings = settings

    def get_issuer(self) -> str | None:
        """Return the issuer, or nothing when responses must not carry it."""
        settings = self._settings
        return settings.issuer if settings.iss_in_authorization_response else None


class Revocation(RevocationEndpoint):
    """RFC 7009: a refresh token takes its family with it; an access token is denylisted."""

    CLIENT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        """Find the token as the hinted type first, then as the other."""
        state = current_sandbox()
        finders = [state.refresh_tokens.find, state.access_tokens.read]
        if token_type_hint == ACCESS_HINT:
            finders.reverse()
        for find in finders:
            found = find(token_string)
            if found is not None:
                return found
        return None

    def revoke_token(self, token: RefreshToken | AccessToken, request: Any) -> None:
        """Revoke the token at once and note which kind it was for the metrics."""
        state = current_sandbox()
        if isinstance(token, RefreshToken):
            state.refresh_tokens.revoke(token)
            g.revoked_kind = "refresh_token"
        else:
            state.access_tokens.revoke(token)
            g.revoked_kind = "access_token"


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Return the client id and secret of a Basic header as sent, not yet form-decoded."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = pair.partition(":")
    return (client_id, secret) if colon and client_id and secret else None


def authenticate_basic(query_client: Callable[[str], Client | None], request: Any) -> Client | None:
    """Authenticate a client by HTTP Basic; a wrong secret or unknown client is refused."""
    credentials = basic_credentials(request.headers.get("Authorization"))
    if credentials is None:
        return None
    # RFC 6749 §2.3.1 form-encodes both ('+' is a space); many clients (Authlib's, requests')
    # send them unencoded, which percent-decoding leaves as they were.
    readings = dict.fromkeys(
        (decode(credentials[0]), decode(credentials[1])) for decode in (unquote_plus, unquote)
    )
    known = False
    for client_id, secret in readings:
        client = query_client(client_id)
        known = known or client is not None
        if client is not None and client.check_client_secret(secret):
            return client
    if not known:
        raise InvalidClientError(status_code=401, description="The client does not exist.")
    return None


def add_id_token(
    state: SandboxState,
    token: dict[str, Any],
    grant_type: str,
    client: Client,
    subject: str,
    sign_in: SignIn,
) -> None:
    """Add the ID token; a code's exchange also makes the client one of the session's."""
    access_token = token["access_token"]
    token["id_token"] = state.id_tokens.issue(client.client_id, subject, sign_in, access_token)
    if grant_type == "authorization_code":
        state.sessions.join(sign_in.sid, client.client_id)


def issue_tokens(
    grant_type: str,
    client: Client,
    user: TokenOwner | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """Issue the token response for one grant; store what must be stored."""
    state = current_sandbox()
    granted = " ".join(dict.fromkeys((scope or "").split()))
    person = user.user if user else None
    subject = person.aa_id if person else client.client_id
    family = user.family if user else None
    jkt = g.get("dpop_jkt")
    access_token = state.access_tokens.issue(client.client_id, subject, granted, family, jkt)
    token: dict[str, Any] = {
        "access_token": access_token,
        "token_type": DPOP if jkt else BEARER,
        "expires_in": state.settings.access_token_ttl,
        "scope": granted,
    }
    if user is not None and user.sign_in is not None and OPENID in granted.split():
        add_id_token(state, token, grant_type, client, subject, user.sign_in)
    if include_refresh_token and user is not None and person is not None:
        # RFC 9449 §5: a public client's refresh token is bound to its key; a confidential
        # client's is bound to its client authentication already.
        bound = jkt if client.is_public else None
        token["refresh_token"] = state.refresh_tokens.issue(
            client.client_id, person.username, user.granted_scope, user.family, bound, user.sign_in
        )
    return token


def save_token(token: dict[str, Any], request: Any) -> None:
    """Do nothing: tokens are stored as they are issued."""


def init_authorization_server(app: Flask, state: SandboxState) -> SandboxAuthorizationServer:
    """Bind the state's authorization server to ``app``, with its grants and endpoints."""
    server = state.server
    server.init_app(app, query_client=state.registry.client, save_token=save_token)
    server.scopes_supported = list(state.registry.scopes)
    server.register_token_generator("default", issue_tokens)
    server.register_client_auth_method("client_secret_basic", authenticate_basic)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    server.register_extension(Issuer(state.settings))
    return server


def allow_plain_http() -> None:
    """Let Authlib serve plain HTTP in this process, which only the sandbox's entry points own."""
    # The sandbox serves http:// by design, also under docker-compose host names that are
    # not loopback, which Authlib refuses unless this process-wide switch is set.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")


def grant_type_label() -> str:
    """Return the request's grant type as a metrics label of bounded cardinality."""
    grant_type = request.form.get("grant_type", "")
    return grant_type if grant_type in GRANT_TYPES else "unsupported"

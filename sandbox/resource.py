"""Protect the API with Authlib's ResourceProtector: Bearer tokens from the header only."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError, InvalidTokenError
from flask import abort, g, jsonify

from sandbox.context import services
from sandbox.faults import fault_response
from sandbox.registry import User
from sandbox.tokens import AccessToken

View = TypeVar("View", bound=Callable[..., Any])


class MissingScopeError(InsufficientScopeError):
    """The token lacks the scope a route needs; carries that scope for the challenge."""

    def __init__(self, needed: str):
        super().__init__(f"This call needs the scope: {needed}.")
        self.needed = needed


class SandboxTokenValidator(BearerTokenValidator):
    """Accept only genuine, unexpired, unrevoked tokens holding one of the route's scopes."""

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        """Return the token if it is genuine, whatever its state."""
        return services().access_tokens.read(token_string)

    def validate_token(
        self, token: AccessToken | None, scopes: list[str], request: Any, user: bool = False
    ) -> None:
        """Check expiry exactly, then the denylist in one round trip, then user and scope."""
        if token is None:
            raise InvalidTokenError("The access token is malformed or not signed by this server.")
        if token.is_expired():
            raise InvalidTokenError("The access token has expired.")
        if services().access_tokens.is_revoked(token):
            raise InvalidTokenError("The access token was revoked.")
        if user and not token.for_user:
            raise InvalidTokenError("A user token is required.")
        if self.scope_insufficient(token.scope, scopes):
            raise MissingScopeError(" ".join(scopes))


class SandboxProtector(ResourceProtector):
    """RFC 6750 challenges; insufficient scope is a 401 as on the platform (403 in generic mode)."""

    def raise_error_response(self, error: OAuth2Error) -> NoReturn:
        """Raise the HTTP answer for ``error`` with the right WWW-Authenticate challenge."""
        description = error.get_error_description() or ""
        status = 401
        if isinstance(error, MissingAuthorizationError | UnsupportedTokenTypeError):
            # RFC 6750 §3.1: a request without credentials gets a bare challenge.
            challenge = "Bearer"
            body = {"error": "missing_token", "error_description": "A Bearer token is required."}
        elif isinstance(error, MissingScopeError):
            challenge = f'Bearer error="insufficient_scope", scope="{error.needed}"'
            body = {"error": "insufficient_scope", "error_description": description}
            status = 403 if services().settings.generic else 401
        else:
            challenge = f'Bearer error="invalid_token", error_description="{description}"'
            body = {"error": "invalid_token", "error_description": description}
        response = jsonify(body)
        response.status_code = status
        response.headers["Cache-Control"] = "no-store"
        response.headers["WWW-Authenticate"] = challenge
        abort(response)


protector = SandboxProtector()
protector.register_token_validator(SandboxTokenValidator())


def require_token(*scopes: str, target: str = "api", user: bool = False) -> Callable[[View], View]:
    """Protect a view: play a queued fault, else demand a token with one of ``scopes``."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            fault = services().faults.take_unless_drip(target)
            if fault is not None:
                return fault_response(fault, " ".join(scopes))
            try:
                protector.acquire_token(scopes=list(scopes), user=user)
            except OAuth2Error as error:
                protector.raise_error_response(error)
            return view(*args, **kwargs)

        return cast(View, wrapped)

    return decorator


def current_token() -> AccessToken:
    """Return the access token the request was authorised with."""
    token: AccessToken = g.authlib_server_oauth2_token
    return token


def token_user() -> User | None:
    """Return the user the request's token was issued for, or None for a client token."""
    token = current_token()
    if not token.for_user:
        return None
    user = services().registry.user_by_aa_id(token.subject)
    if user is None:  # the registry changed since the token was issued
        protector.raise_error_response(InvalidTokenError("The token's user no longer exists."))
    return user


def current_user() -> User:
    """Return the user of a route that demanded a user token."""
    user = token_user()
    if user is None:
        raise RuntimeError("a route using current_user() must demand a user token")
    return user

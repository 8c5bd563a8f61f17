"""Protect the API with Authlib's ResourceProtector: Bearer or DPoP tokens from the header only."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from flask import abort, g, jsonify

from altitudeangel_sandbox.api.token_validators import (
    BEARER,
    DPOP,
    DPoPTokenValidator,
    MissingScopeError,
    SandboxTokenValidator,
    TokenProblem,
)
from altitudeangel_sandbox.faults import fault_response
from altitudeangel_sandbox.oauth.access_tokens import AccessToken
from altitudeangel_sandbox.oauth.dpop.proof import ALGORITHMS
from altitudeangel_sandbox.oauth.registry import User
from altitudeangel_sandbox.state import SandboxState, current_sandbox

View = TypeVar("View", bound=Callable[..., Any])
ALGS = " ".join(ALGORITHMS)


def challenge(state: SandboxState, error: OAuth2Error) -> tuple[str, int]:
    """Return the WWW-Authenticate challenge and status for ``error`` (RFC 6750 §3, RFC 9449 §7)."""
    proofs = state.proofs
    description = error.get_error_description() or ""
    if isinstance(error, MissingAuthorizationError | UnsupportedTokenTypeError):
        # RFC 6750 §3.1: a request without credentials gets a bare challenge.
        return (f'DPoP algs="{ALGS}"' if proofs.required else BEARER), 401
    scheme = getattr(error, "scheme", BEARER)
    if isinstance(error, MissingScopeError):
        status = 403 if state.settings.generic else 401
        found = f'{scheme} error="insufficient_scope", scope="{error.needed}"'
    else:
        status = 401
        found = f'{scheme} error="{error.error}", error_description="{description}"'
    return (found + f', algs="{ALGS}"' if scheme == DPOP else found), status


class SandboxProtector(ResourceProtector):
    """RFC 6750 and RFC 9449 challenges; a missing scope is a 401 as on the platform."""

    def raise_error_response(self, error: OAuth2Error) -> NoReturn:
        """Raise the HTTP answer for ``error`` with the right WWW-Authenticate challenge."""
        state = current_sandbox()
        found, status = challenge(state, error)
        if isinstance(error, MissingAuthorizationError | UnsupportedTokenTypeError):
            scheme = DPOP if state.proofs.required else BEARER
            description = f"A {scheme} token is required."
            body = {"error": "missing_token", "error_description": description}
        else:
            body = {"error": error.error, "error_description": error.get_error_description()}
        response = jsonify(body)
        response.status_code = status
        response.headers["Cache-Control"] = "no-store"
        response.headers["WWW-Authenticate"] = found
        abort(response)


protector = SandboxProtector()
protector.register_token_validator(SandboxTokenValidator())
protector.register_token_validator(DPoPTokenValidator())


def require_token(
    *scopes: str, target: str = "api", user: bool = False, challenge: str | None = None
) -> Callable[[View], View]:
    """Protect a view: play a queued fault, else demand a token with one of ``scopes``.

    A token without any of them is told to get ``challenge``, by default all of ``scopes``.
    """
    named = challenge or " ".join(scopes)

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            fault = current_sandbox().faults.take_unless_drip(target)
            if fault is not None:
                return fault_response(fault, named)
            try:
                protector.acquire_token(scopes=list(scopes), user=user)
            except MissingScopeError as error:
                error.needed = named
                protector.raise_error_response(error)
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
    user = current_sandbox().registry.user_by_aa_id(token.subject)
    if user is None:  # the registry changed since the token was issued
        protector.raise_error_response(TokenProblem("The token's user no longer exists."))
    return user


def current_user() -> User:
    """Return the user of a route that demanded a user token."""
    user = token_user()
    if user is None:
        raise RuntimeError("a route using current_user() must demand a user token")
    return user

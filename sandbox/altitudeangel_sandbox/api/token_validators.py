"""Token validators of the resource API: Bearer tokens (RFC 6750) and DPoP-bound ones (RFC 9449)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error, UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError, InvalidTokenError
from flask import request

from altitudeangel_sandbox.oauth.access_tokens import AccessToken, AccessTokens
from altitudeangel_sandbox.oauth.dpop.proof import DPoPError
from altitudeangel_sandbox.state import SandboxState, current_sandbox

BEARER = "Bearer"
DPOP = "DPoP"


class TokenProblem(InvalidTokenError):
    """The token is not usable; ``scheme`` names the challenge that says so."""

    def __init__(self, description: str, scheme: str = BEARER):
        super().__init__(description)
        self.scheme = scheme


class MissingScopeError(InsufficientScopeError):
    """The token lacks the scope a route needs; carries that scope for the challenge."""

    def __init__(self, needed: str, scheme: str = BEARER):
        super().__init__(f"This call needs the scope: {needed}.")
        self.needed = needed
        self.scheme = scheme


class ProofProblem(OAuth2Error):
    """The DPoP proof is missing or wrong (``invalid_dpop_proof``), or lacks a nonce."""

    status_code = 401
    scheme = DPOP

    def __init__(self, problem: DPoPError):
        super().__init__(problem.description)
        self.error = problem.error


def check_live(tokens: AccessTokens, token: AccessToken | None, scheme: str) -> AccessToken:
    """Check the token is genuine, unexpired to the second, and not revoked."""
    if token is None:
        raise TokenProblem("The access token is malformed or not signed by this server.", scheme)
    if token.is_expired():
        raise TokenProblem("The access token has expired.", scheme)
    if tokens.is_revoked(token):
        raise TokenProblem("The access token was revoked.", scheme)
    return token


def check_grant(token: AccessToken, scopes: list[str], user: bool, scheme: str) -> None:
    """Check the token was issued for a user when the route needs one, and its scope."""
    if user and not token.for_user:
        raise TokenProblem("A user token is required.", scheme)
    if BearerTokenValidator.scope_insufficient(token.scope, scopes):
        raise MissingScopeError(" ".join(scopes), scheme)


class SandboxTokenValidator(BearerTokenValidator):
    """Accept genuine, live, unbound tokens holding one of the route's scopes."""

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        """Return the token if it is genuine, whatever its state."""
        return current_sandbox().access_tokens.read(token_string)

    def validate_token(
        self, token: AccessToken | None, scopes: list[str], request: Any, user: bool = False
    ) -> None:
        """Check the token; one bound to a DPoP key is no Bearer token (RFC 9449 §7.2)."""
        live = check_live(current_sandbox().access_tokens, token, BEARER)
        if live.jkt is not None:
            raise TokenProblem("This token is DPoP-bound: send it as DPoP, with a proof.", DPOP)
        check_grant(live, scopes, user, BEARER)


class DPoPTokenValidator(SandboxTokenValidator):
    """Accept DPoP-bound tokens with a fresh proof signed by the key they are bound to."""

    TOKEN_TYPE = DPOP.lower()  # Authlib looks schemes up in lower case

    def validate_token(
        self, token: AccessToken | None, scopes: list[str], request: Any, user: bool = False
    ) -> None:
        """Check the token, then the proof with its ``ath``, then the key, then the scope."""
        state = current_sandbox()
        if not state.proofs.offered:
            raise UnsupportedTokenTypeError()
        live = check_live(state.access_tokens, token, DPOP)
        if live.jkt is None:
            raise TokenProblem("This is a Bearer token: send it as Bearer.", DPOP)
        if request_proof_key(state) != live.jkt:
            raise ProofProblem(DPoPError("The DPoP proof is not signed by the token's key."))
        check_grant(live, scopes, user, DPOP)


def request_proof_key(state: SandboxState) -> str:
    """Verify the request's proof for the presented token; return its key's thumbprint."""
    access_token = request.headers.get("Authorization", "").split(None, 1)[-1]
    urls = [request.base_url, state.settings.url(request.path)]
    try:
        jkt = state.proofs.check(urls, access_token)
    except DPoPError as problem:
        raise ProofProblem(problem) from None
    if jkt is None:
        raise ProofProblem(DPoPError("A DPoP proof is required with a DPoP token."))
    return jkt

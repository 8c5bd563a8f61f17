"""Authlib's grants wired to the sandbox's stores: PKCE, codes and client tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import g

from altitudeangel_sandbox.oauth.clients import (
    CREDENTIAL_METHODS,
    OPENID,
    TOKEN_AUTH_METHODS,
    Client,
)
from altitudeangel_sandbox.oauth.codes import AuthorizationCode
from altitudeangel_sandbox.oauth.dpop.policy import DPoPProofError, Proofs
from altitudeangel_sandbox.oauth.dpop.proof import DPoPError
from altitudeangel_sandbox.oauth.registry import User
from altitudeangel_sandbox.oauth.sessions import SignIn, current_sign_in
from altitudeangel_sandbox.state import current_sandbox


@dataclass(frozen=True)
class TokenOwner:
    """Who a token is for: a user and the login's family, or (``user`` None) the client itself.

    ``sign_in`` is the browser sign-in of a login that asked for ``openid``: its ID tokens'.
    """

    user: User | None
    family: str | None
    granted_scope: str
    sign_in: SignIn | None = None


def check_dpop(proofs: Proofs, client: Client, bound_to: str | None = None) -> None:
    """Refuse, before anything is spent, a request without the DPoP proof it needs (RFC 9449)."""
    jkt = g.get("dpop_jkt")
    if jkt is None and proofs.offered and (proofs.required or client.dpop_bound_access_tokens):
        raise DPoPProofError(DPoPError("This client must send a DPoP proof with token requests."))
    if bound_to is None:
        return
    if jkt is None:
        raise DPoPProofError(DPoPError("The refresh token is bound to a DPoP key: prove it."))
    if jkt != bound_to:
        raise InvalidGrantError("The refresh token is bound to another DPoP key.")


class S256CodeChallenge(CodeChallenge):
    """PKCE with the S256 method only: optional, as on the platform, except for public clients."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse a challenge sent without naming S256 (RFC 7636 would assume plain)."""
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        # RFC 9700 §2.1.1: a public client has nothing but PKCE to bind the code to itself.
        if grant.request.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("A public client must send a PKCE code_challenge.")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """Exchange a single-use code; a replayed code revokes what it produced."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    def validate_token_request(self) -> None:
        """Also refuse a request without the DPoP proof its client must send."""
        super().validate_token_request()
        check_dpop(current_sandbox().proofs, self.request.client)

    def save_authorization_code(self, code: str, request: Any) -> None:
        """Store the code with its client, redirect URI, scope, user and PKCE challenge.

        A code for ``openid`` also keeps the browser's sign-in and the request's nonce, pushed
        or not, for the ID token.
        """
        data = request.payload.data
        openid = OPENID in (request.scope or "").split()
        current_sandbox().codes.save(
            code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            username=request.user.username,
            challenge=(data.get("code_challenge"), data.get("code_challenge_method")),
            sign_in=current_sign_in(data.get("nonce")) if openid else None,
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """Return the unused code issued to ``client``; on replay revoke its family."""
        state = current_sandbox()
        found = state.codes.find(code)
        if found is None:
            used = state.codes.find_used(code)
            if used is not None:
                state.refresh_tokens.revoke_family(used.family)  # RFC 6749 §4.1.2
                raise InvalidGrantError("The code was already used; its tokens are revoked.")
            return None
        return found if found.client_id == client.client_id else None

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """Consume the code atomically before issuing, so two exchanges cannot both win."""
        code: AuthorizationCode = self.request.authorization_code
        state = current_sandbox()
        if not state.codes.consume(code):
            state.refresh_tokens.revoke_family(code.family)
            raise InvalidGrantError("The code was already used; its tokens are revoked.")
        result: tuple[int, dict[str, Any], list[tuple[str, str]]] = super().create_token_response()
        return result

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Do nothing: the code was consumed before the tokens were issued."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> TokenOwner | None:
        """Return who signed in for the code, starting the login's token family."""
        user = current_sandbox().registry.user(authorization_code.username)
        if user is None:
            return None
        code = authorization_code
        return TokenOwner(user, code.family, code.scope, code.sign_in)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Issue a client token for scopes the client declared."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(CREDENTIAL_METHODS)

    def validate_token_request(self) -> None:
        """Also refuse a missing scope or one the client did not declare."""
        super().validate_token_request()
        self.request.client.get_allowed_scope(self.request.payload.scope)
        check_dpop(current_sandbox().proofs, self.request.client)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """Add a refresh token only where the platform's documents say every response has one."""
        status, token, headers = super().create_token_response()
        state = current_sandbox()
        # RFC 6749 §4.4.3 says SHOULD NOT; the platform's documentation says it always does.
        if state.settings.documented_only:
            client_id = self.request.client.client_id
            token["refresh_token"] = state.refresh_tokens.issue(client_id, "", token["scope"], None)
        return status, token, headers

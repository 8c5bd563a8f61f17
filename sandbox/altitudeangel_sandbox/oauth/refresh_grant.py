"""The refresh token grant: rotation with reuse detection, or the platform's reusable tokens."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError, grants

from altitudeangel_sandbox.oauth.clients import TOKEN_AUTH_METHODS
from altitudeangel_sandbox.oauth.grants import TokenOwner, check_dpop
from altitudeangel_sandbox.oauth.refresh_tokens import RefreshToken
from altitudeangel_sandbox.state import current_sandbox

TokenResponse = tuple[int, dict[str, Any], list[tuple[str, str]]]


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Rotate the refresh token on every use (a reused one revokes its family), unless aa-public."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        """Return the live refresh token; on reuse of a rotated one revoke its family."""
        tokens = current_sandbox().refresh_tokens
        found = tokens.find(refresh_token)
        if found is None:
            rotated = tokens.find_rotated(refresh_token)
            if rotated is not None:
                tokens.revoke_family(rotated.family)
                raise InvalidGrantError("The refresh token was already used; the login is revoked.")
        return found

    def validate_token_request(self) -> None:
        """Also check the DPoP proof the client or a key-bound refresh token needs."""
        super().validate_token_request()
        proofs = current_sandbox().proofs
        check_dpop(proofs, self.request.client, bound_to=self.request.refresh_token.jkt)

    def create_token_response(self) -> TokenResponse:
        """Claim the refresh token atomically so two concurrent refreshes cannot both win."""
        token: RefreshToken = self.request.refresh_token
        state = current_sandbox()
        tokens = state.refresh_tokens
        if state.settings.rotates_refresh_tokens and not tokens.claim(token):
            tokens.revoke_family(token.family)
            raise InvalidGrantError("The refresh token was already used; the login is revoked.")
        result: TokenResponse = super().create_token_response()
        return result

    def issue_token(self, user: TokenOwner, refresh_token: RefreshToken) -> dict[str, Any]:
        """Issue a new refresh token when rotating; else hand the same one back."""
        rotating = current_sandbox().settings.rotates_refresh_tokens
        scope = self.request.payload.scope or refresh_token.get_scope()
        token: dict[str, Any] = self.generate_token(
            user=user, scope=scope, include_refresh_token=rotating
        )
        if not rotating:
            token["refresh_token"] = self.request.form["refresh_token"]
        return token

    def authenticate_user(self, refresh_token: RefreshToken) -> TokenOwner | None:
        """Return the user of the login the refresh token belongs to, or the client's own."""
        if not refresh_token.username:
            return TokenOwner(None, None, refresh_token.scope)
        user = current_sandbox().registry.user(refresh_token.username)
        if user is None:
            return None
        token = refresh_token
        return TokenOwner(user, token.family, token.scope, token.sign_in)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Do nothing: the token was claimed before the new ones were issued."""

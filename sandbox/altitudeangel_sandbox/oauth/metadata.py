"""Discovery: RFC 8414 metadata, the same at OpenID Connect Discovery's address, and the JWK Set.

The blueprint is mounted in the modes that go beyond the platform's public documents, where
the sandbox is an OpenID provider too: its signing key verifies ID and logout tokens, so the
JWK Set is published even when access tokens are opaque.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from altitudeangel_sandbox.oauth.assertions import ALGORITHMS as ASSERTION_ALGORITHMS
from altitudeangel_sandbox.oauth.clients import GRANT_TYPES, PRIVATE_KEY_JWT, PUBLIC
from altitudeangel_sandbox.oauth.dpop.proof import ALGORITHMS
from altitudeangel_sandbox.oauth.id_tokens import ID_TOKEN_CLAIMS
from altitudeangel_sandbox.oauth.signing import ALGORITHM, public_jwks
from altitudeangel_sandbox.state import current_sandbox

bp = Blueprint("metadata", __name__)

JWKS_PATH = "/.well-known/jwks.json"
# OpenID Connect Discovery 1.0 §3, and Back-Channel Logout 1.0 §2.1.
OPENID_METADATA = {
    "id_token_signing_alg_values_supported": [ALGORITHM],
    "subject_types_supported": ["public"],
    "claims_supported": list(ID_TOKEN_CLAIMS),
    "backchannel_logout_supported": True,
    "backchannel_logout_session_supported": True,
}


def server_metadata() -> dict[str, Any]:
    """Return the metadata document for this mode's endpoints."""
    state = current_sandbox()
    settings = state.settings
    paths = settings.paths
    methods = [*settings.secret_methods, PRIVATE_KEY_JWT, PUBLIC]
    metadata: dict[str, Any] = {
        "issuer": settings.issuer,
        "authorization_endpoint": settings.url(paths.authorize),
        "token_endpoint": settings.url(paths.token),
        "revocation_endpoint": settings.url(paths.revoke),
        "userinfo_endpoint": settings.url(paths.userinfo),
        "end_session_endpoint": settings.url(paths.end_session),
        "pushed_authorization_request_endpoint": settings.url(paths.par),
        "require_pushed_authorization_requests": settings.require_par,
        "response_types_supported": ["code"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "revocation_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(state.registry.scopes),
        "authorization_response_iss_parameter_supported": settings.iss_in_authorization_response,
        "jwks_uri": settings.url(JWKS_PATH),
        **OPENID_METADATA,
    }
    if settings.dpop_offered:
        metadata["dpop_signing_alg_values_supported"] = list(ALGORITHMS)
    return metadata


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server() -> Response:
    """Describe the authorization server (RFC 8414)."""
    return jsonify(server_metadata())


@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    """Describe the OpenID provider (OpenID Connect Discovery 1.0): the same document."""
    return jsonify(server_metadata())


@bp.get(JWKS_PATH)
def jwks() -> Response:
    """Publish the public key that verifies ID, logout and (unless opaque) access tokens."""
    return jsonify(public_jwks(current_sandbox().access_tokens.signing_key))

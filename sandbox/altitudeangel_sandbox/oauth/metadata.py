"""Discovery: RFC 8414 authorization server metadata and the JWK Set."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify

from altitudeangel_sandbox.oauth.assertions import ALGORITHMS as ASSERTION_ALGORITHMS
from altitudeangel_sandbox.oauth.clients import GRANT_TYPES, PRIVATE_KEY_JWT, PUBLIC
from altitudeangel_sandbox.oauth.dpop.proof import ALGORITHMS
from altitudeangel_sandbox.oauth.signing import public_jwks
from altitudeangel_sandbox.state import current_sandbox

bp = Blueprint("metadata", __name__)

JWKS_PATH = "/.well-known/jwks.json"


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
    }
    if not settings.opaque_access_tokens:
        metadata["jwks_uri"] = settings.url(JWKS_PATH)
    if settings.dpop_offered:
        metadata["dpop_signing_alg_values_supported"] = list(ALGORITHMS)
    return metadata


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server() -> Response:
    """Describe the authorization server (RFC 8414)."""
    return jsonify(server_metadata())


@bp.get(JWKS_PATH)
def jwks() -> Response:
    """Publish the public key that verifies access tokens, unless they are opaque."""
    state = current_sandbox()
    if state.settings.opaque_access_tokens:
        abort(404)
    return jsonify(public_jwks(state.access_tokens.signing_key))

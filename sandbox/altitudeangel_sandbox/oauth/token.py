"""The token and revocation endpoints: fault injection, strict form checks, then Authlib."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from flask import Blueprint, Response, g, request

from altitudeangel_sandbox.faults import fault_response
from altitudeangel_sandbox.oauth.dpop.policy import DPoPProofError
from altitudeangel_sandbox.oauth.dpop.proof import DPoPError
from altitudeangel_sandbox.oauth.server import grant_type_label
from altitudeangel_sandbox.settings import Settings
from altitudeangel_sandbox.state import SandboxState, current_sandbox

FORM_TYPE = "application/x-www-form-urlencoded"


def form_problem() -> InvalidRequestError | None:
    """Return why the request is not a well-formed OAuth form POST, if it is not."""
    if request.mimetype != FORM_TYPE:
        return InvalidRequestError(f"The body must be {FORM_TYPE}.")
    if request.args:
        return InvalidRequestError("Parameters belong in the form body, not the URL.")
    repeated = sorted(name for name in request.form if len(request.form.getlist(name)) > 1)
    if repeated:
        return InvalidRequestError(f"Repeated parameter: {repeated[0]}.")
    ways = ("client_secret" in request.form, "client_assertion" in request.form)
    if sum(ways) + (request.authorization is not None) > 1:
        return InvalidRequestError("Use one client authentication method, not two.")
    return None


def outcome_of(response: Response) -> str:
    """Return ``success`` or the OAuth error code a token response carries."""
    if response.status_code == 200:
        return "success"
    body = response.get_json(silent=True)
    return str(body.get("error", "unknown")) if isinstance(body, dict) else "unknown"


def token_form_problem() -> InvalidRequestError | None:
    """Return why the request is no token request, if it is not (RFC 6749 §5.2)."""
    problem = form_problem()
    if problem is None and not request.form.get("grant_type"):
        return InvalidRequestError("The 'grant_type' parameter is required.")
    return problem


def token_proof_problem(state: SandboxState) -> OAuth2Error | None:
    """Check the request's DPoP proof, if any, noting its key for the tokens to be bound to."""
    urls = [state.settings.url(state.settings.paths.token), request.base_url]
    try:
        g.dpop_jkt = state.proofs.check(urls)
    except DPoPError as problem:
        return DPoPProofError(problem)
    return None


def token() -> Response:
    """Issue tokens for the authorization code, refresh token and client credentials grants."""
    state = current_sandbox()
    counter = state.metrics.token_requests
    fault = state.faults.take_unless_drip("token")
    if fault is not None:
        counter.labels(grant_type_label(), "fault").inc()
        return fault_response(fault)
    server = state.server
    problem = token_form_problem() or token_proof_problem(state)
    if problem is not None:
        response = server.handle_error_response(None, problem)
    else:
        response = server.create_token_response()
    counter.labels(grant_type_label(), outcome_of(response)).inc()
    return response


def revoke() -> Response:
    """Revoke a refresh token (with its family) or an access token (RFC 7009)."""
    state = current_sandbox()
    counter = state.metrics.revocations
    fault = state.faults.take_unless_drip("revoke")
    if fault is not None:
        counter.labels("fault").inc()
        return fault_response(fault)
    server = state.server
    problem = form_problem()
    if problem is not None:
        response = server.handle_error_response(None, problem)
    else:
        response = server.create_endpoint_response("revocation")
    outcome = g.get("revoked_kind", "unknown") if response.status_code == 200 else None
    counter.labels(outcome or outcome_of(response)).inc()
    return response


def create_blueprint(settings: Settings) -> Blueprint:
    """Return the token endpoints' blueprint at this mode's paths."""
    bp = Blueprint("token", __name__)
    bp.add_url_rule(settings.paths.token, "token", token, methods=["POST"])
    # The platform documents no revocation endpoint.
    if not settings.documented_only:
        bp.add_url_rule(settings.paths.revoke, "revoke", revoke, methods=["POST"])
    return bp

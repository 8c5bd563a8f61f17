"""RFC 9126 pushed authorization requests: the client posts the request, the browser a handle."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, OAuth2Request
from flask import Blueprint, Response, g, jsonify, request

from altitudeangel_sandbox.oauth.clients import TOKEN_AUTH_METHODS, Client
from altitudeangel_sandbox.oauth.token import form_problem, outcome_of
from altitudeangel_sandbox.settings import Paths
from altitudeangel_sandbox.state import SandboxState, current_sandbox

# Client authentication travels in the same form; it is no part of the authorization request.
AUTHENTICATION = ("client_secret", "client_assertion", "client_assertion_type")


def use_pushed_parameters(server: Any, oauth_request: OAuth2Request) -> None:
    """Let Authlib validate a pushed request's parameters as if they had come in the URL."""
    pushed = g.get("pushed_request")
    if pushed is not None:
        oauth_request.payload = BasicOAuth2Payload(pushed.params)


def pushed_parameters(client: Client) -> dict[str, str]:
    """Return the authorization request in the form, naming the authenticated client."""
    params = {name: value for name, value in request.form.items() if name not in AUTHENTICATION}
    if params.setdefault("client_id", client.client_id) != client.client_id:
        raise InvalidRequestError("The client_id is not the authenticated client's.")
    if "request_uri" in params:
        raise InvalidRequestError("A pushed request cannot itself name a request_uri.")
    if "request" in params:
        raise InvalidRequestError("Request objects (RFC 9101) are not supported.")
    return params


def validate(
    state: SandboxState, oauth_request: OAuth2Request, client: Client, params: dict[str, str]
) -> None:
    """Check the request exactly as the authorization endpoint would."""
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or not client.check_redirect_uri(redirect_uri):
        raise InvalidRequestError("The redirect_uri is missing or not registered for the client.")
    oauth_request.payload = BasicOAuth2Payload(params)
    grant = state.server.get_authorization_grant(oauth_request)
    grant.validate_authorization_request()


def authenticated_request(state: SandboxState) -> tuple[Client, dict[str, str]]:
    """Authenticate the client as at the token endpoint and return its checked request."""
    problem = form_problem()
    if problem is not None:
        raise problem
    server = state.server
    oauth_request = server.create_oauth2_request(None)
    client: Client = server.authenticate_client(
        oauth_request, list(TOKEN_AUTH_METHODS), "pushed_authorization_request"
    )
    params = pushed_parameters(client)
    validate(state, oauth_request, client, params)
    return client, params


def push() -> Response:
    """Store a client's authorization request; answer 201 with its request_uri."""
    state = current_sandbox()
    counter = state.metrics.pushed_requests
    try:
        client, params = authenticated_request(state)
    except OAuth2Error as error:
        # RFC 9126 §2.3: the client gets a JSON error, never a redirect.
        error.redirect_uri = None
        response: Response = state.server.handle_error_response(None, error)
        counter.labels(outcome_of(response)).inc()
        return response
    request_uri = state.pushed.push(client.client_id, params)
    counter.labels("success").inc()
    answer = jsonify({"request_uri": request_uri, "expires_in": state.pushed.ttl})
    answer.status_code = 201
    answer.headers["Cache-Control"] = "no-store"
    return answer


def create_blueprint(paths: Paths) -> Blueprint:
    """Return the pushed authorization request endpoint's blueprint at this mode's path."""
    bp = Blueprint("par", __name__)
    bp.add_url_rule(paths.par, "push", push, methods=["POST"])
    return bp

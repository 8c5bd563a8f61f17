"""The authorization endpoint: check the client, sign the user in, ask consent, issue a code."""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedResponseTypeError,
)
from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import SubmitField

from altitudeangel_sandbox.oauth.clients import Client
from altitudeangel_sandbox.oauth.grants import AuthorizationCodeGrant
from altitudeangel_sandbox.oauth.login import LogoutForm, signed_in_user
from altitudeangel_sandbox.oauth.registry import User
from altitudeangel_sandbox.oauth.server import Issuer
from altitudeangel_sandbox.settings import Paths
from altitudeangel_sandbox.state import SandboxState, current_sandbox


class ConsentForm(FlaskForm):
    """Allow or deny the client's request."""

    allow = SubmitField("Allow")
    deny = SubmitField("Deny")


def error_page(message: str) -> tuple[str, int]:
    """Render the sandbox's own error page: never redirect to an unverified redirect URI."""
    return render_template("sandbox/error.html", title="Authorization failed", message=message), 400


def authorization_request(state: SandboxState) -> MultiDict[str, str] | tuple[str, int]:
    """Return the request's parameters: the pushed ones when it names a request_uri (RFC 9126)."""
    if state.settings.documented_only or "request_uri" not in request.args:
        return request.args
    pushed = state.pushed.find(request.args["request_uri"], request.args.get("client_id"))
    if pushed is None:
        return error_page("The request_uri is unknown, expired, used or another application's.")
    g.pushed_request = pushed
    return MultiDict(pushed.params)


def requesting_client(state: SandboxState, params: MultiDict[str, str]) -> Client | tuple[str, int]:
    """Return the client if it exists and named one of its redirect URIs; else an error page."""
    for name in ("client_id", "redirect_uri"):
        if len(params.getlist(name)) > 1:
            return error_page(f"The request repeats the {name} parameter.")
    client = state.registry.client(params.get("client_id"))
    if client is None:
        return error_page("The application is not registered with this server (unknown client_id).")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        return error_page("The request has no redirect_uri.")
    if not client.check_redirect_uri(redirect_uri):
        return error_page("The redirect_uri is not registered for this application.")
    return client


def must_push(state: SandboxState, client: Client) -> bool:
    """Return whether this plain (not pushed) request should have been pushed first."""
    settings = state.settings
    if settings.documented_only or "pushed_request" in g:
        return False
    return settings.require_par or client.require_pushed_authorization_requests


def error_redirect(
    state: SandboxState, error: OAuth2Error, params: MultiDict[str, str]
) -> Response:
    """Send an OAuth error back to the client's verified redirect URI, with ``iss``."""
    server = state.server
    if error.redirect_uri is None:
        error.redirect_uri = params["redirect_uri"]
    if error.state is None:
        error.state = params.get("state")
    if isinstance(error, UnsupportedResponseTypeError):
        error.description = "Only response_type=code is supported."
    response: Response = server.handle_error_response(None, error)
    Issuer(state.settings).add_issuer_parameter(server, response)
    return response


def issue_code(
    state: SandboxState, grant: AuthorizationCodeGrant, user: User
) -> ResponseReturnValue:
    """Redirect back with a code for ``user``."""
    pushed = g.get("pushed_request")
    if pushed is not None and not state.pushed.spend(pushed):
        return error_page("The request_uri was already used. Start again from the application.")
    response: Response = state.server.create_authorization_response(grant=grant, grant_user=user)
    return response


def decline(state: SandboxState, params: MultiDict[str, str]) -> ResponseReturnValue:
    """Redirect back with access_denied and the request's state, pushed or not (§4.1.2.1)."""
    pushed = g.get("pushed_request")
    if pushed is not None and not state.pushed.spend(pushed):
        return error_page("The request_uri was already used. Start again from the application.")
    return error_redirect(state, AccessDeniedError(), params)


def authorize() -> ResponseReturnValue:
    """Validate the request, then sign in, then consent (unless remembered), then redirect."""
    state = current_sandbox()
    params = authorization_request(state)
    if not isinstance(params, MultiDict):
        return params
    client = requesting_client(state, params)
    if not isinstance(client, Client):
        return client
    if must_push(state, client):
        refusal = InvalidRequestError("This application must push its authorization requests.")
        return error_redirect(state, refusal, params)
    user = signed_in_user(state)
    try:
        grant = state.server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return error_redirect(state, error, params)
    if user is None:
        return redirect(url_for("login.login") + "?" + urlencode({"next": request.full_path}))
    scope = grant.request.scope
    if request.method == "GET":
        asked = params.get("prompt") == "consent"
        if not asked and state.consents.remembered(user.username, client.client_id, scope):
            return issue_code(state, grant, user)
        return consent_page(state.registry.scopes, client, user, scope)
    form = ConsentForm()
    if not form.validate_on_submit():
        return error_page("The consent form expired. Start signing in again from the application.")
    if not form.allow.data:
        return decline(state, params)
    state.consents.remember(user.username, client.client_id, scope)
    return issue_code(state, grant, user)


def consent_page(descriptions: dict[str, str], client: Client, user: User, scope: str) -> str:
    """Ask the user to allow the client the requested scopes."""
    scopes = [(name, descriptions.get(name, name)) for name in scope.split()]
    logout = LogoutForm(next=request.full_path)
    return render_template(
        "sandbox/consent.html",
        client=client,
        user=user,
        scopes=scopes,
        form=ConsentForm(),
        logout=logout,
        action=request.full_path,
    )


def create_blueprint(paths: Paths) -> Blueprint:
    """Return the authorization endpoint's blueprint at this mode's path."""
    bp = Blueprint("authorize", __name__)
    bp.add_url_rule(paths.authorize, "authorize", authorize, methods=["GET", "POST"])
    return bp

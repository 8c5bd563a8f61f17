"""The authorization endpoint: check the client, sign the user in, ask consent, issue a code."""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import OAuth2Error, UnsupportedResponseTypeError
from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SubmitField

from sandbox.clients import Client
from sandbox.context import services
from sandbox.grants import AuthorizationCodeGrant
from sandbox.login import LogoutForm, signed_in_user
from sandbox.oauth import Issuer, authorization_server
from sandbox.registry import User
from sandbox.settings import Paths


class ConsentForm(FlaskForm):
    """Allow or deny the client's request."""

    allow = SubmitField("Allow")
    deny = SubmitField("Deny")


def error_page(message: str) -> tuple[str, int]:
    """Render the sandbox's own error page: never redirect to an unverified redirect URI."""
    return render_template("sandbox/error.html", title="Authorization failed", message=message), 400


def requesting_client() -> Client | tuple[str, int]:
    """Return the client if it exists and named one of its redirect URIs; else an error page."""
    for name in ("client_id", "redirect_uri"):
        if len(request.args.getlist(name)) > 1:
            return error_page(f"The request repeats the {name} parameter.")
    client = services().registry.client(request.args.get("client_id"))
    if client is None:
        return error_page("The application is not registered with this server (unknown client_id).")
    redirect_uri = request.args.get("redirect_uri")
    if not redirect_uri:
        return error_page("The request has no redirect_uri.")
    if not client.check_redirect_uri(redirect_uri):
        return error_page("The redirect_uri is not registered for this application.")
    return client


def error_redirect(error: OAuth2Error) -> Response:
    """Send an OAuth error back to the client's verified redirect URI, with ``iss``."""
    server = authorization_server()
    if error.redirect_uri is None:
        error.redirect_uri = request.args["redirect_uri"]
    if isinstance(error, UnsupportedResponseTypeError):
        error.description = "Only response_type=code is supported."
    response: Response = server.handle_error_response(None, error)
    Issuer(services()).add_issuer_parameter(server, response)
    return response


def issue_code(grant: AuthorizationCodeGrant, user: User | None) -> Response:
    """Redirect back with a code for ``user``, or with access_denied when ``user`` is None."""
    server = authorization_server()
    response: Response = server.create_authorization_response(grant=grant, grant_user=user)
    return response


def authorize() -> ResponseReturnValue:
    """Validate the request, then sign in, then consent (unless remembered), then redirect."""
    client = requesting_client()
    if not isinstance(client, Client):
        return client
    user = signed_in_user()
    try:
        grant = authorization_server().get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return error_redirect(error)
    if user is None:
        return redirect(url_for("login.login") + "?" + urlencode({"next": request.full_path}))
    scope = grant.request.scope
    consents = services().consents
    if request.method == "GET":
        asked = request.args.get("prompt") == "consent"
        if not asked and consents.remembered(user.username, client.client_id, scope):
            return issue_code(grant, user)
        return consent_page(client, user, scope)
    form = ConsentForm()
    if not form.validate_on_submit():
        return error_page("The consent form expired. Start signing in again from the application.")
    if not form.allow.data:
        return issue_code(grant, None)
    consents.remember(user.username, client.client_id, scope)
    return issue_code(grant, user)


def consent_page(client: Client, user: User, scope: str) -> str:
    """Ask the user to allow the client the requested scopes."""
    descriptions = services().registry.scopes
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

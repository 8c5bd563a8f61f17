"""RP-Initiated Logout: a client asks the sandbox to end the user's sign-in, then goes back."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField

from altitudeangel_sandbox.oauth.clients import Client
from altitudeangel_sandbox.oauth.login import sign_out, signed_in_user
from altitudeangel_sandbox.oauth.registry import User
from altitudeangel_sandbox.settings import Paths
from altitudeangel_sandbox.state import SandboxState, current_sandbox

PARAMETERS = ("client_id", "id_token_hint", "post_logout_redirect_uri", "state")


class SandboxEndSession(EndSessionEndpoint):
    """Authlib's end-session endpoint, taking the sandbox's own tokens as the hint."""

    def _validate_id_token_hint(self, id_token_hint: str) -> dict[str, Any]:
        """Accept an ID token this sandbox issued, expired or not, or one of its access tokens."""
        state = current_sandbox()
        claims = state.id_tokens.read(id_token_hint)
        if claims is not None:
            return claims
        # Before ID tokens, clients sent an access token: it names the client in client_id,
        # where Authlib reads an ID token's aud, so the hint is mapped onto that shape.
        token = state.access_tokens.read(id_token_hint)
        if token is None:
            raise InvalidRequestError("The id_token_hint was not issued by this server.")
        return {"aud": token.client_id, "sub": token.subject, "sid": token.family}

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        """Return the client the hint was issued to."""
        return self.server.query_client(id_token_claims["aud"])

    def is_post_logout_redirect_uri_legitimate(self, *args: Any) -> bool:
        """Redirect without a hint too: the URI is registered and a signed-in user confirms."""
        return True

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """End the sandbox sign-in (clearing the session deletes its cookie), telling clients."""
        sign_out(current_sandbox())

    def create_response(self, validated_request: Any) -> tuple[int, str, list[Any]] | None:
        """End the session, then send the browser on with a 303 (the form may be a POST)."""
        self.end_session(validated_request)
        if validated_request.redirect_uri:
            return 303, "", [("Location", validated_request.redirect_uri)]
        return None


class EndSessionForm(FlaskForm):
    """Sign out or stay signed in; the request's parameters ride along as hidden fields."""

    client_id = HiddenField()
    id_token_hint = HiddenField()
    post_logout_redirect_uri = HiddenField()
    state = HiddenField()
    sign_out = SubmitField("Sign out")
    stay = SubmitField("Stay signed in")


def _count(state: SandboxState, outcome: str) -> None:
    state.metrics.end_session_requests.labels(outcome).inc()


def error_page(state: SandboxState, message: str) -> tuple[str, int]:
    """Render the sandbox's own error page: never redirect to an unverified URI."""
    _count(state, "invalid_request")
    return render_template("sandbox/error.html", title="Sign-out failed", message=message), 400


def request_problem(validated: EndSessionRequest) -> str | None:
    """Return why the request names no known client, or a URI the client did not register."""
    data = request.values
    if validated.client is None:
        if data.get("client_id"):
            return "The application is not registered with this server (unknown client_id)."
        if data.get("id_token_hint"):
            return "The id_token_hint names an application this server does not know."
        return "The request names no application: give a client_id or an id_token_hint."
    if data.get("post_logout_redirect_uri") and validated.redirect_uri is None:
        return "The post_logout_redirect_uri is not registered for this application."
    return None


def finish(state: SandboxState, validated: EndSessionRequest, outcome: str) -> ResponseReturnValue:
    """End the session and redirect, or say so on a page when there is nowhere to go."""
    _count(state, outcome)
    response = state.server.create_endpoint_response("end_session", validated)
    return response or render_template("sandbox/signed_out.html", client=validated.client)


def confirm_page(state: SandboxState, client: Client, user: User) -> tuple[str, int]:
    """Ask the signed-in user whether to sign out."""
    _count(state, "confirm")
    given = {name: request.values.get(name) for name in PARAMETERS}
    form = EndSessionForm(formdata=None, data=given)
    action = url_for("end_session.end_session")
    page = render_template(
        "sandbox/end_session.html", client=client, user=user, form=form, action=action
    )
    return page, 200


def end_session() -> ResponseReturnValue:
    """Check the request, ask a signed-in user to confirm, then sign out or stay."""
    state = current_sandbox()
    try:
        validated = state.server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return error_page(state, error.description or "The sign-out request is invalid.")
    problem = request_problem(validated)
    if problem is not None:
        return error_page(state, problem)
    user = signed_in_user(state)
    if user is None:
        return finish(state, validated, "not_signed_in")
    form = EndSessionForm()
    if not (form.sign_out.data or form.stay.data):
        return confirm_page(state, validated.client, user)
    if not form.validate_on_submit():
        return error_page(
            state, "The sign-out form expired. Go back to the application and try again."
        )
    if form.sign_out.data:
        return finish(state, validated, "signed_out")
    _count(state, "stayed")
    back = request.values.get("post_logout_redirect_uri") if validated.redirect_uri else None
    return render_template("sandbox/stayed.html", client=validated.client, user=user, back=back)


def create_blueprint(paths: Paths) -> Blueprint:
    """Return the end-session endpoint's blueprint at this mode's path."""
    bp = Blueprint("end_session", __name__)
    bp.add_url_rule(paths.end_session, "end_session", end_session, methods=["GET", "POST"])
    return bp

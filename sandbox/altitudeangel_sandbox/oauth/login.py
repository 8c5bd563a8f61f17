"""Signing in to and out of the sandbox itself, and its small home page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from altitudeangel_sandbox.oauth.registry import User
from altitudeangel_sandbox.oauth.sessions import SID, USER, start_browser_session
from altitudeangel_sandbox.state import SandboxState, current_sandbox

bp = Blueprint("login", __name__)


class LoginForm(FlaskForm):
    """The sandbox's sign-in form."""

    username = StringField("Username", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    """A button that signs out of the sandbox."""

    next = HiddenField()
    submit = SubmitField("Sign out of the sandbox")


def signed_in_user(state: SandboxState) -> User | None:
    """Return the user signed in to the sandbox in this browser, if any."""
    return state.registry.user(session.get(USER))


def sign_out(state: SandboxState) -> None:
    """End this browser's sandbox session; tell the clients it signed in to (back-channel)."""
    user, sid = signed_in_user(state), session.get(SID)
    session.clear()
    if user is not None and sid:
        state.backchannel.notify(state.sessions.end(str(sid)), user.aa_id, str(sid))


def safe_next(target: str | None, authorize_path: str) -> str | None:
    """Return ``target`` if it is a local authorize URL, so sign-in cannot redirect elsewhere."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path != authorize_path:
        return None
    return target


@bp.route("/sandbox/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    """Show the sign-in form; on success continue the authorization request that sent us."""
    state = current_sandbox()
    authorize_path = state.settings.paths.authorize
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = safe_next(request.args.get("next"), authorize_path) or ""
    if form.validate_on_submit():
        user = state.registry.authenticate(form.username.data, form.password.data)
        if user is not None:
            sign_out(state)  # a session signed in again is a new one: the old one ends
            start_browser_session(user.username)
            return redirect(safe_next(form.next.data, authorize_path) or url_for("login.home"))
        return render_template("sandbox/login.html", form=form, failed=True), 401
    status = 400 if form.is_submitted() else 200
    return render_template("sandbox/login.html", form=form, failed=False), status


@bp.post("/sandbox/logout")
def logout() -> Response | tuple[str, int]:
    """Sign out of the sandbox and go back where the button was, when that is safe."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return render_template(
            "sandbox/error.html",
            title="Sign-out failed",
            message="The form expired. Go back and try again.",
        ), 400
    state = current_sandbox()
    sign_out(state)
    authorize_path = state.settings.paths.authorize
    return redirect(safe_next(form.next.data, authorize_path) or url_for("login.home"))


@bp.get("/")
@bp.get("/sandbox/")
def home() -> str:
    """Say who is signed in to the sandbox and offer to sign out."""
    state = current_sandbox()
    has_metadata = not state.settings.documented_only
    discovery = url_for("metadata.authorization_server") if has_metadata else None
    return render_template(
        "sandbox/home.html", user=signed_in_user(state), logout=LogoutForm(), discovery=discovery
    )

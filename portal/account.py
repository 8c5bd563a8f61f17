"""The signed-in user's own pages: the home page, their profile, what the app holds for them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template, session

from portal.jwt_claims import peek_claims
from portal.refresh import SignInRequired
from portal.scopes import SCOPES
from portal.services import services
from portal.user import signed_in, user_call

bp = Blueprint("account", __name__)


@bp.get("/")
def home() -> str:
    """Say what the app does; signed in, greet the user and show the way on."""
    settings = services().settings
    chosen = set(settings.aa_scopes.split())
    return render_template("home.html", signed_in=signed_in(), scopes=SCOPES, chosen=chosen)


@bp.get("/profile")
def profile() -> str:
    """Show the user's profile as the platform has it."""
    api = services().api
    user_profile = user_call(api.user_profile)
    return render_template("account/profile.html", profile=user_profile)


@bp.get("/session")
def session_info() -> str:
    """Show what the app holds for the user, never the tokens themselves."""
    login_id = session.get("login_id")
    token = services().tokens.get(login_id) if login_id else None
    if token is None:
        raise SignInRequired()
    claims = peek_claims(token.access_token)
    return render_template(
        "account/session.html",
        token=token,
        claims=claims,
        scopes=sorted(token.scopes),
        expires_in=None if token.expires_at is None else token.expires_at - int(time.time()),
        when=_when,
    )


def _when(timestamp: Any) -> str:
    if not isinstance(timestamp, int | float):
        return "—"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

"""The signed-in user's own pages: the home page, their profile, what the app holds for them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template

from flask_altitudeangel import SCOPES, SignInRequired, login_required
from portal.extensions import aa, platform

bp = Blueprint("account", __name__)


@bp.get("/")
def home() -> str:
    """Say what the app does; signed in, greet the user and show the way on."""
    chosen = set(aa.config.scopes.split())
    return render_template("home.html", scopes=SCOPES, chosen=chosen)


@bp.get("/profile")
@login_required
def profile() -> str:
    """Show the user's profile as the platform has it."""
    return render_template("account/profile.html", profile=platform.user_profile())


@bp.get("/session")
@login_required
def session_info() -> str:
    """Show what the app holds for the user, never the tokens themselves."""
    facts = aa.token_facts()
    if facts is None:
        raise SignInRequired()
    return render_template(
        "account/session.html",
        token=facts,
        claims=facts.claims,
        scopes=facts.scopes,
        expires_in=None if facts.expires_at is None else facts.expires_at - int(time.time()),
        when=_when,
    )


def _when(timestamp: Any) -> str:
    if not isinstance(timestamp, int | float):
        return "—"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

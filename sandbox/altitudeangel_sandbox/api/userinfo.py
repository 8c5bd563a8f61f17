"""The signed-in user's profile, as ``GET /userProfile`` returns it on the platform.

Where the sandbox is an OpenID provider too, it is also the UserInfo endpoint (OpenID Connect
Core §5.3): a token with ``openid`` gets the user's ``sub``, the same as its ID tokens', and with
``query_userinfo`` the platform's profile beside it. aa-public answers the platform's shape only.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from altitudeangel_sandbox.api.resource import current_token, current_user, require_token
from altitudeangel_sandbox.oauth.clients import OPENID
from altitudeangel_sandbox.settings import Settings

PROFILE_SCOPE = "query_userinfo"
PROFILE_FIELDS = (
    "aa_id",
    "email",
    "first_name",
    "last_name",
    "country",
    "is_pro",
    "unit_of_measure",
)


def user_profile() -> Response:
    """Return what the token's scopes show of the user it was issued for."""
    user, scopes = current_user(), current_token().scopes
    body: dict[str, Any] = {}
    if OPENID in scopes:
        body["sub"] = user.aa_id
    if PROFILE_SCOPE in scopes:
        body.update({name: user.profile[name] for name in PROFILE_FIELDS})
    return jsonify(body)


def create_blueprint(settings: Settings) -> Blueprint:
    """Return the profile endpoint's blueprint at this mode's path, for this mode's scopes."""
    scopes = (PROFILE_SCOPE, OPENID) if settings.openid else (PROFILE_SCOPE,)
    # The platform's scope is the one a token without either is told to get.
    protect = require_token(*scopes, target="userinfo", user=True, challenge=PROFILE_SCOPE)
    view = protect(user_profile)
    bp = Blueprint("userinfo", __name__)
    bp.add_url_rule(settings.paths.userinfo, "user_profile", view, methods=["GET"])
    return bp

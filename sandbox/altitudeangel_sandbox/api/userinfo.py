"""The signed-in user's profile, as ``GET /userProfile`` returns it on the platform."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from altitudeangel_sandbox.api.resource import current_user, require_token
from altitudeangel_sandbox.settings import Paths

PROFILE_FIELDS = (
    "aa_id",
    "email",
    "first_name",
    "last_name",
    "country",
    "is_pro",
    "unit_of_measure",
)


@require_token("query_userinfo", target="userinfo", user=True)
def user_profile() -> Response:
    """Return the profile of the user the token was issued for."""
    profile = current_user().profile
    return jsonify({name: profile[name] for name in PROFILE_FIELDS})


def create_blueprint(paths: Paths) -> Blueprint:
    """Return the profile endpoint's blueprint at this mode's path."""
    bp = Blueprint("userinfo", __name__)
    bp.add_url_rule(paths.userinfo, "user_profile", user_profile, methods=["GET"])
    return bp

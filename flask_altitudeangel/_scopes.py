"""The platform's scopes, and which of them a sign-in asks for."""

from __future__ import annotations

from collections.abc import Iterable

OPENID = "openid"
SCOPES = {
    "query_userinfo": "Read your profile: name, e-mail, country and units.",
    "manage_flightreports": "See, file and complete your flight reports.",
    "query_mapdata": "Read ground points of interest from the map data.",
    "query_mapairdata": "Read air information from the map data: airspace, no-fly zones.",
    "access_archive": "Retrieve items from your archive.",
    "talk_tower": "Call the ops and tower APIs (area reports, weather).",
    "manage_users": "Manage and provision users for organisations.",
}


def requested_scope(
    chosen: Iterable[str], add_scope: str | None, granted: str | None, default: str
) -> str:
    """Return the scope string of a sign-in: the chosen scopes, or the granted ones plus one."""
    if add_scope in SCOPES:
        base = (granted or default).split()
        return " ".join(dict.fromkeys([*base, str(add_scope)]))
    picked = [s for value in chosen for s in value.split() if s in SCOPES]
    if picked and OPENID in default.split():
        picked.insert(0, OPENID)  # an OpenID sign-in stays one, whichever API scopes are chosen
    return " ".join(dict.fromkeys(picked)) or default

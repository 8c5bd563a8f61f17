"""The platform's scopes, and which of them a sign-in asks for."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from portal.settings import Settings

SCOPES = {
    "query_userinfo": "Read your profile: name, e-mail, country and units.",
    "manage_flightreports": "See, file and complete your flight reports.",
    "query_mapdata": "Read ground points of interest from the map data.",
    "query_mapairdata": "Read air information from the map data: airspace, no-fly zones.",
    "access_archive": "Retrieve items from your archive.",
    "talk_tower": "Call the ops and tower APIs (area reports, weather).",
    "manage_users": "Manage and provision users for organisations.",
}


def requested_scope(args: MultiDict[str, str], granted: str | None, settings: Settings) -> str:
    """Return the scope string for a sign-in from the query: chosen scopes, or one more."""
    extra = args.get("add_scope", "")
    if extra in SCOPES:
        base = (granted or settings.aa_scopes).split()
        return " ".join(dict.fromkeys([*base, extra]))
    chosen = [s for value in args.getlist("scope") for s in value.split() if s in SCOPES]
    return " ".join(dict.fromkeys(chosen)) or settings.aa_scopes

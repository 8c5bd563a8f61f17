"""Validation of the ``next`` page a sign-in returns to: only this app's own pages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from flask_altitudeangel._state import NAME

# Printable ASCII without space, backslash, quotes or angle brackets; anything else is refused
# rather than normalised, since browsers and servers disagree on how to normalise it.
SAFE_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~/?=&%+:,;!$*()@]*")
NOT_A_DESTINATION = {"login", "callback", "logout", "signed_out"}  # of the sign-in blueprint


def safe_next(value: str | None, default: str, blueprint: str) -> str:
    """Return ``value`` if it is a same-origin path to a page of this app, else ``default``."""
    if not value or len(value) > 512 or not SAFE_CHARACTERS.fullmatch(value):
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment:
        return default
    if "%" in parts.path or ":" in parts.path or "@" in parts.path:
        return default
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except (HTTPException, RequestRedirect):
        return default
    name, _, view = str(endpoint).rpartition(".")
    if endpoint == "static" or (name == blueprint and view in NOT_A_DESTINATION):
        return default
    return value


def own_page(value: str | None, default: str = "/") -> str:
    """Return ``value`` if a link to it stays on a page of this app, else ``default``.

    For links a host builds from a request's own path (an error page's "Try again"): that path
    is the requester's to choose, and ``/%5Cevil.example/x`` arrives as ``/\\evil.example/x``,
    which browsers resolve to another site.
    """
    return safe_next(value, default, NAME)

"""Validation of the ``next`` page a sign-in returns to: only this app's own pages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

DEFAULT_NEXT = "/flight-reports"
# Printable ASCII without space, backslash, quotes or angle brackets; anything else is refused
# rather than normalised, since browsers and servers disagree on how to normalise it.
SAFE_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~/?=&%+:,;!$*()@]*")
NOT_A_DESTINATION = {
    "auth.login_start",
    "auth.callback",
    "auth.logout",
    "auth.signed_out",
    "health.favicon",
    "static",
}


def safe_next(value: str | None) -> str:
    """Return ``value`` if it is a same-origin path to a page of this app, else the default."""
    if not value or len(value) > 512 or not SAFE_CHARACTERS.fullmatch(value):
        return DEFAULT_NEXT
    if not value.startswith("/") or value.startswith("//"):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment:
        return DEFAULT_NEXT
    if "%" in parts.path or ":" in parts.path or "@" in parts.path:
        return DEFAULT_NEXT
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except (HTTPException, RequestRedirect):
        return DEFAULT_NEXT
    if endpoint in NOT_A_DESTINATION:
        return DEFAULT_NEXT
    return value

"""The round trip through the authorization server's end-session endpoint, kept in no store.

The ``state`` sent along is signed and dated rather than stored: the signed-out page is
anonymous and writes nothing, and a state that comes back says only that the browser went
through the end-session endpoint, which a replay cannot turn into anything else.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "altitudeangel.signed-out"
MAX_AGE = 600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def state() -> str:
    """Return a state for the end-session request: signed, and good for ten minutes."""
    return str(_serializer().dumps("ended"))


def came_back(value: str | None) -> bool:
    """Tell whether ``value`` is a state this app sent to the end-session endpoint lately."""
    if not value or len(value) > 200:
        return False
    try:
        return bool(_serializer().loads(value, max_age=MAX_AGE) == "ended")
    except BadData:
        return False

"""The round trip through the authorization server's end-session endpoint, kept in no store.

The ``state`` sent along is signed and dated rather than stored, and bound to the browser
that signed out by a short-lived cookie holding the nonce the state signs: a state that comes
back in that browser says it went through the end-session endpoint. Without the binding, a
link carrying another browser's state would tell a user who is still signed in at the
platform that their sign-in there had ended.
"""

from __future__ import annotations

import hmac
import secrets

from flask import after_this_request, current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

SALT = "altitudeangel.signed-out"
MAX_AGE = 600
COOKIE = "altitudeangel_signed_out"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _cookie_name() -> str:
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    return ("__Host-" if secure else "") + COOKIE


def state() -> str:
    """Return a state for the end-session request, good for ten minutes in this browser only."""
    nonce = request.cookies.get(_cookie_name(), "")
    if len(nonce) != 22:  # none yet (or not ours): bind this browser to a fresh one
        nonce = secrets.token_urlsafe(16)
        after_this_request(lambda response: _bind(response, nonce))
    return str(_serializer().dumps(nonce))


def _bind(response: Response, nonce: str) -> Response:
    response.set_cookie(
        _cookie_name(),
        nonce,
        max_age=MAX_AGE,
        path="/",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",  # sent on the end-session endpoint's redirect back, a top-level GET
    )
    return response


def came_back(value: str | None) -> bool:
    """Tell whether ``value`` is a state this browser lately took to the end-session endpoint."""
    nonce = request.cookies.get(_cookie_name(), "")
    if not value or len(value) > 200 or not nonce:
        return False
    try:
        signed = _serializer().loads(value, max_age=MAX_AGE)
    except BadData:
        return False
    return isinstance(signed, str) and hmac.compare_digest(signed, nonce)

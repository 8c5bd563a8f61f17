"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider ends logins.

The provider POSTs a logout token, signed as its ID tokens are, to ``/backchannel-logout``.
One that passes every check (§2.6) ends each login of its ``sid``, or of its ``sub`` when it
names no session: tokens forgotten and grants revoked in the storage every worker and host
shares, so the next request of each such browser finds itself signed out. Logins of the same
user in other provider sessions stay. A token that fails a check, or was seen before, is a 400
and changes nothing.

The request and the app's answer are told on ``protocol_message``, the token by its claims.

CSRF protection does not apply: the request comes from the provider, not from a browser, and
the token it carries is its proof.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from flask_altitudeangel._id_token import LEEWAY, LOGOUT_TOKEN_MAX_AGE, TokenRefused
from flask_altitudeangel._messages import announce, logout_request, logout_response
from flask_altitudeangel._state import NAME, AppState
from flask_altitudeangel.signals import signed_out

ENDPOINT = f"{NAME}.backchannel_logout"
VIEW = "flask_altitudeangel._backchannel.backchannel_logout"  # as Flask-WTF names a view
events = logging.getLogger("flask_altitudeangel.events")


def register(bp: Blueprint, state: AppState) -> None:
    """Add ``POST /backchannel-logout`` to the sign-in blueprint."""

    def backchannel_logout() -> Response:
        """End the logins the provider's logout token names; tell the request and the answer."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        given = request.form.getlist("logout_token")
        announce(app, logout_request(request.base_url, given))
        answer = _logout(state, app, given)
        document = answer.get_json(silent=True)
        announce(app, logout_response(request.base_url, answer.status_code, document))
        return answer

    bp.add_url_rule(
        "/backchannel-logout", "backchannel_logout", backchannel_logout, methods=["POST"]
    )
    bp.url_value_preprocessor(_exempt_from_csrf)


def _logout(state: AppState, app: Any, given: list[str]) -> Response:
    if len(given) != 1:
        return _refused("logout_token")
    try:
        claims = state.id_tokens.logout_token(given[0])
    except TokenRefused as error:
        return _refused(error.check)
    # Remembered as long as a token issued then is accepted: a replay is told apart.
    until = int(claims["iat"]) + LOGOUT_TOKEN_MAX_AGE + LEEWAY
    if not state.tokens.first_logout_token(str(claims["jti"]), until):
        return _refused("jti")
    ended = state.tokens.end_provider_session(claims.get("sub"), claims.get("sid"))
    for login_id in ended:
        signed_out.send(app, login_id=login_id, reason="backchannel_logout")
    events.info("event=signed_out by=backchannel_logout logins=%d", len(ended))
    return _no_store(Response(status=200))


def _exempt_from_csrf(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Exempt the route from Flask-WTF's CSRFProtect, whether bound before or after the extension.

    URL value preprocessors run before any ``before_request`` function, CSRFProtect's among
    them, so the exemption is in place when its check looks.
    """
    if endpoint == ENDPOINT:
        csrf = current_app.extensions.get("csrf")
        if csrf is not None and hasattr(csrf, "exempt"):
            csrf.exempt(VIEW)


def _refused(check: str) -> Response:
    events.warning("event=backchannel_logout_refused check=%s", check)
    answer = jsonify(error="invalid_request", error_description=f"logout token: {check}")
    answer.status_code = 400
    return _no_store(answer)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response

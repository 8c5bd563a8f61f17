"""A refused sign-in: counted, logged, announced, and raised as the documented SignInFailed."""

from __future__ import annotations

import logging

from flask import current_app

from flask_altitudeangel._metrics import SIGN_INS
from flask_altitudeangel.errors import SignInFailed, TokenRejected
from flask_altitudeangel.signals import sign_in_failed

events = logging.getLogger("flask_altitudeangel.events")  # security events, documented
ACCESS_DENIED = "access_denied"
KNOWN_REASONS = {
    "malformed_callback",
    "invalid_state",
    "missing_issuer",
    "issuer_mismatch",
    ACCESS_DENIED,
    "invalid_scope",
    "invalid_request",
    "unauthorized_client",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "token_rejected",
    "invalid_token_response",
    "missing_id_token",
    "invalid_id_token",
}


def refused(
    reason: str,
    status: int,
    next_path: str,
    by_server: TokenRejected | None = None,
    check: str = "",
) -> SignInFailed:
    """Count, log and announce a refused sign-in; return the error to raise.

    A refusal by the authorization server (other than the user's own "no") is logged at
    WARNING with its code and description: it usually means a setting or the client's
    registration is wrong, which the user cannot fix. ``check`` names the ID token check
    that failed.
    """
    known = reason if reason in KNOWN_REASONS else "other"
    SIGN_INS.labels(known).inc()
    sign_in_failed.send(current_app._get_current_object(), reason=reason)  # type: ignore[attr-defined]
    if by_server is None or reason == ACCESS_DENIED:
        if check:
            events.warning("event=sign_in_refused reason=%s check=%s", known, check)
        else:
            events.info("event=sign_in_refused reason=%s", known)
        return SignInFailed(reason, next_path, status, check=check)
    error, description = by_server.error, by_server.description
    events.warning(
        "event=sign_in_refused reason=%s by=authorization_server error=%s description=%r",
        known,
        error if error in KNOWN_REASONS or error == "invalid_grant" else "other",
        description,
    )
    return SignInFailed(
        reason, next_path, status, server_error=error, server_description=description
    )

"""Completing a sign-in: the code exchange, the ID token's checks, and the new login."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import current_app, redirect
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from flask_altitudeangel import _session
from flask_altitudeangel._dpop import DPoPKey
from flask_altitudeangel._id_token import IdToken, TokenRefused
from flask_altitudeangel._metrics import SIGN_INS
from flask_altitudeangel._signin import record
from flask_altitudeangel._signin.pending import PendingSignIn
from flask_altitudeangel._signin.refusals import events, refused
from flask_altitudeangel._state import AppState
from flask_altitudeangel._tokens import UserToken, token_from_response
from flask_altitudeangel.errors import ApiError, TokenRejected
from flask_altitudeangel.signals import code_exchanged, signed_in

log = logging.getLogger("flask_altitudeangel")
STAND_IN_NAME = "Signed-in user"


def redeem(state: AppState, params: MultiDict[str, str], pending: PendingSignIn) -> Response:
    """Exchange the code for tokens, check the ID token, and sign the user in."""
    received_at = time.time()
    started = time.perf_counter()
    key = DPoPKey.generate() if state.config.dpop else None  # this login's, made on the server
    try:
        response = state.oauth.exchange_code(params["code"], pending.code_verifier, key)
        token = token_from_response(
            response, pending.scope, None, key.private_jwk() if key else None
        )
    except TokenRejected as error:
        raise refused("token_rejected", 400, pending.next, error) from None
    except (KeyError, ValueError):
        raise refused("invalid_token_response", 502, pending.next) from None
    identity = _identity(state, response, pending, token)
    if identity is not None:
        token = replace(token, id_token=identity.raw, id_claims=identity.claims)
    seconds = time.perf_counter() - started
    exchange = record.code_exchange(state.config, params, pending, response, (received_at, seconds))
    code_exchanged.send(_app(), exchange=exchange)
    _sign_in(state, token)
    SIGN_INS.labels("success").inc()
    events.info("event=signed_in")
    response_to_browser = redirect(pending.next, 303)
    response_to_browser.headers["Cache-Control"] = "no-store"
    return response_to_browser


def _identity(
    state: AppState, response: Mapping[str, Any], pending: PendingSignIn, token: UserToken
) -> IdToken | None:
    """Check the response's ID token, required when the sign-in asked for ``openid``.

    A refused answer's grant is revoked: nothing of it is kept, and nothing of it is left live.
    """
    raw = response.get("id_token")
    try:
        if raw is None:
            if pending.nonce:  # the sign-in asked for openid
                raise refused("missing_id_token", 400, pending.next)
            return None
        return state.id_tokens.of_sign_in(raw, token.access_token, pending.nonce)
    except TokenRefused as error:
        _discard(state, token)
        raise refused("invalid_id_token", 400, pending.next, check=error.check) from None
    except Exception:  # the keys unavailable, the refusal itself: the grant goes either way
        _discard(state, token)
        raise


def _discard(state: AppState, token: UserToken) -> None:
    if token.refresh_token:
        state.oauth.revoke_in_background(token.refresh_token)


def _sign_in(state: AppState, token: UserToken) -> None:
    """Store the tokens under a new login id and move the user to a new session id."""
    login_id = secrets.token_urlsafe(24)
    idle_deadline = int(time.time()) + state.config.session_idle_timeout
    saved = state.tokens.start(login_id, token, idle_deadline)
    name, aa_id = _profile_summary(state, saved)
    previous = _session.login_id_in_session()
    if previous:  # a new sign-in (or more consent) replaces the old login and its grant
        _session.end(state.tokens, wait=False, reason="replaced")
    login = _session.start(login_id, name, aa_id, saved.id_claims)
    signed_in.send(_app(), login=login)


def _profile_summary(state: AppState, token: UserToken) -> tuple[str, str]:
    """Read the user's profile once, for the name shown on every page."""
    claims = token.id_claims or {}
    stand_in = str(claims.get("name") or claims.get("email") or STAND_IN_NAME)
    if "query_userinfo" not in token.scopes:
        return stand_in, ""
    try:
        profile = state.fixed_token_api(token).get(
            state.config.userprofile_url, operation="user_profile"
        )
        data = profile.json() if profile.status == 200 else {}
    except ApiError:
        data = {}
    if not isinstance(data, dict) or "aa_id" not in data:
        log.warning("event=profile_unavailable")
        return stand_in, ""
    name = f"{data.get('first_name', '')} {data.get('last_name', '')}".strip()
    return name or str(data.get("email", "")) or stand_in, str(data["aa_id"])


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]

"""The sign-in routes: /login, /callback, /logout and /signed-out, as one blueprint."""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Callable
from typing import ParamSpec
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from flask_altitudeangel import _session
from flask_altitudeangel._dpop import DPoPKey
from flask_altitudeangel._messages import announce
from flask_altitudeangel._metrics import SIGN_INS
from flask_altitudeangel._scopes import requested_scope
from flask_altitudeangel._signin import record, signout
from flask_altitudeangel._signin.callback_params import callback_params_are_sound
from flask_altitudeangel._signin.pending import PendingSignIn
from flask_altitudeangel._signin.redirects import safe_next
from flask_altitudeangel._state import NAME, AppState
from flask_altitudeangel._tokens import UserToken, token_from_response
from flask_altitudeangel.errors import ApiError, SignInFailed, StorageUnavailable, TokenRejected
from flask_altitudeangel.signals import before_sign_in, code_exchanged, sign_in_failed, signed_in

P = ParamSpec("P")
log = logging.getLogger("flask_altitudeangel")
events = logging.getLogger("flask_altitudeangel.events")  # security events, documented
ACCESS_DENIED = "access_denied"


def create_blueprint(state: AppState) -> Blueprint:
    """Build the sign-in blueprint of one app, whose views use that app's ``state``."""
    bp = Blueprint(NAME, __name__, template_folder="../templates")

    @bp.get("/login")
    @_store_errors
    def login() -> Response:
        """Start a sign-in: remember the attempt, send the browser to the authorize page."""
        refused = _before_sign_in("login")
        if refused is not None:
            return refused
        config = state.config
        next_path = safe_next(request.args.get("next"), config.after_sign_in, NAME)
        current = _session.current(config, state.tokens)
        granted = state.tokens.granted_scope(current.login_id) if current else None
        args = request.args
        scope = requested_scope(
            args.getlist("scope"), args.get("add_scope"), granted, config.scopes
        )
        pending = state.pending.begin(next_path, scope, config.use_pkce)
        try:
            url = state.oauth.authorization_url(pending.state, pending.code_verifier, scope)
        except TokenRejected as error:  # a pushed request the server refused (RFC 9126 §2.3)
            raise _refused(error.error, 400, next_path, error) from None
        announce(_app(), record.through_the_browser("authorization_request", url, pending.state))
        response = _no_store(redirect(url, 302))
        state.pending.bind(pending, request, response)
        log.info("event=sign_in_started pkce=%s", bool(pending.code_verifier))
        return response

    @bp.get("/callback")
    @_store_errors
    def callback() -> Response:
        """Finish a sign-in: check the response, exchange the code, start a fresh session."""
        refused = _before_sign_in("callback")
        if refused is not None:
            return refused
        params = request.args
        default_next = state.config.after_sign_in
        if not callback_params_are_sound(params):
            raise _refused("malformed_callback", 400, default_next)
        announce(_app(), record.callback(state.config.redirect_uri, params))
        pending = _take_pending(state, params["state"])
        if pending is None:
            raise _refused("invalid_state", 400, default_next)
        problem = _issuer_problem(state, params.get("iss"))
        if problem:
            raise _refused(problem, 400, pending.next)
        if "error" in params:
            error = params["error"]
            refusal = TokenRejected(error, params.get("error_description"))
            raise _refused(error, 403 if error == ACCESS_DENIED else 400, pending.next, refusal)
        return _redeem(state, params, pending)

    @bp.post("/logout")
    @_store_errors
    def logout() -> Response:
        """Sign out here, then at the authorization server when it offers an end-session URL."""
        origin = request.headers.get("Origin")
        if origin is not None and origin != state.config.origin:
            abort(403)  # a form posted from another site; the host's CSRF check comes on top
        _session.end(state.tokens, wait=True, reason="signed_out")
        events.info("event=signed_out")
        url = end_session_url(state)
        if url:
            announce(_app(), record.through_the_browser("end_session_request", url))
        return _no_store(redirect(url or _url("signed_out"), 303))

    @bp.get("/signed-out")
    def signed_out() -> Response:
        """Say what sign-out ended: this app's session, and the platform's when it came back."""
        if _session.current(state.config, state.tokens) is not None:
            # Reached by a link or a bookmark while signed in: say so, rather than claim otherwise.
            page = render_template("altitudeangel/signed_out.html", still_signed_in=True)
            return _no_store(Response(page, mimetype="text/html"))
        ended_there = signout.came_back(request.args.get("state"))
        page = render_template(
            "altitudeangel/signed_out.html",
            ended_there=ended_there,
            end_session_url=None if ended_there else end_session_url(state),
            auth_url=state.config.auth_url,
            revokes=bool(state.config.revoke_url),
        )
        return _no_store(Response(page, mimetype="text/html"))

    return bp


def _before_sign_in(step: str) -> Response | None:
    """Ask the ``before_sign_in`` receivers; the first Response one returns is the answer."""
    for _receiver, answer in before_sign_in.send(_app(), step=step):
        if isinstance(answer, Response):
            return answer
    return None


def _store_errors(view: Callable[P, Response]) -> Callable[P, Response]:
    """Answer a Redis failure of a sign-in view with the documented 503, not a traceback."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except RedisError as error:  # pending sign-ins; the token storage raises its own
            raise StorageUnavailable(f"pending sign-ins: {type(error).__name__}") from None

    return guarded


def end_session_url(state: AppState) -> str | None:
    """Return the RP-Initiated Logout URL that comes back to /signed-out, if there is one."""
    config = state.config
    if not config.end_session_url:
        return None
    query = urlencode(
        {
            "client_id": config.client_id,
            "post_logout_redirect_uri": config.post_logout_redirect_uri,
            "state": signout.state(),
        }
    )
    separator = "&" if "?" in config.end_session_url else "?"
    return config.end_session_url + separator + query


def _take_pending(state: AppState, value: str) -> PendingSignIn | None:
    """Spend the browser's attempt for ``value``, and expire its cookie whatever happens."""
    expired: list[str] = []
    pending = state.pending.take(value, request.cookies, expired)

    @after_this_request
    def expire_cookies(response: Response) -> Response:
        state.pending.expire(response, expired)
        return response

    return pending


def _issuer_problem(state: AppState, issuer: str | None) -> str | None:
    """Apply RFC 9207: a response from another issuer is a mix-up attack."""
    config = state.config
    if issuer is None:
        return "missing_issuer" if config.require_iss else None
    if config.issuer and not secrets.compare_digest(issuer.encode(), config.issuer.encode()):
        return "issuer_mismatch"
    return None


def _redeem(state: AppState, params: MultiDict[str, str], pending: PendingSignIn) -> Response:
    """Exchange the code for tokens and sign the user in."""
    received_at = time.time()
    started = time.perf_counter()
    key = DPoPKey.generate() if state.config.dpop else None  # this login's, made on the server
    try:
        response = state.oauth.exchange_code(params["code"], pending.code_verifier, key)
        token = token_from_response(
            response, pending.scope, None, key.private_jwk() if key else None
        )
    except TokenRejected as error:
        raise _refused("token_rejected", 400, pending.next, error) from None
    except (KeyError, ValueError):
        raise _refused("invalid_token_response", 502, pending.next) from None
    seconds = time.perf_counter() - started
    exchange = record.code_exchange(state.config, params, pending, response, (received_at, seconds))
    code_exchanged.send(_app(), exchange=exchange)
    _sign_in(state, token)
    SIGN_INS.labels("success").inc()
    events.info("event=signed_in")
    return _no_store(redirect(pending.next, 303))


def _sign_in(state: AppState, token: UserToken) -> None:
    """Store the tokens under a new login id and move the user to a new session id."""
    login_id = secrets.token_urlsafe(24)
    idle_deadline = int(time.time()) + state.config.session_idle_timeout
    saved = state.tokens.start(login_id, token, idle_deadline)
    name, aa_id = _profile_summary(state, saved)
    previous = _session.login_id_in_session()
    if previous:  # a new sign-in (or more consent) replaces the old login and its grant
        _session.end(state.tokens, wait=False, reason="replaced")
    login = _session.start(login_id, name, aa_id)
    signed_in.send(_app(), login=login)


def _profile_summary(state: AppState, token: UserToken) -> tuple[str, str]:
    """Read the user's profile once, for the name shown on every page."""
    if "query_userinfo" not in token.scopes:
        return "Signed-in user", ""
    try:
        profile = state.fixed_token_api(token).get(
            state.config.userprofile_url, operation="user_profile"
        )
        data = profile.json() if profile.status == 200 else {}
    except ApiError:
        data = {}
    if not isinstance(data, dict) or "aa_id" not in data:
        log.warning("event=profile_unavailable")
        return "Signed-in user", ""
    name = f"{data.get('first_name', '')} {data.get('last_name', '')}".strip()
    return name or str(data.get("email", "")) or "Signed-in user", str(data["aa_id"])


def _refused(
    reason: str, status: int, next_path: str, by_server: TokenRejected | None = None
) -> SignInFailed:
    """Count, log and announce a refused sign-in; return the error to raise.

    A refusal by the authorization server (other than the user's own "no") is logged at
    WARNING with its code and description: it usually means a setting or the client's
    registration is wrong, which the user cannot fix.
    """
    known = reason if reason in KNOWN_REASONS else "other"
    SIGN_INS.labels(known).inc()
    sign_in_failed.send(_app(), reason=reason)
    if by_server is None or reason == ACCESS_DENIED:
        events.info("event=sign_in_refused reason=%s", known)
        return SignInFailed(reason, next_path, status)
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
}


def _app() -> object:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _url(endpoint: str) -> str:
    return url_for(f"{NAME}.{endpoint}")


def _no_store(response: Response) -> Response:
    """Keep a response out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response

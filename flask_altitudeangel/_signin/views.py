"""The sign-in routes: /login, /callback, /logout, /signed-out and /backchannel-logout."""

from __future__ import annotations

import functools
import logging
import secrets
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
from werkzeug.wrappers import Response

from flask_altitudeangel import _backchannel, _session
from flask_altitudeangel._messages import announce
from flask_altitudeangel._scopes import requested_scope
from flask_altitudeangel._signin import record, signout
from flask_altitudeangel._signin.callback_params import callback_params_are_sound
from flask_altitudeangel._signin.complete import redeem
from flask_altitudeangel._signin.pending import PendingSignIn
from flask_altitudeangel._signin.redirects import safe_next
from flask_altitudeangel._signin.refusals import ACCESS_DENIED, events, refused
from flask_altitudeangel._state import NAME, AppState
from flask_altitudeangel.errors import StorageUnavailable, TokenRejected
from flask_altitudeangel.signals import before_sign_in

P = ParamSpec("P")
log = logging.getLogger("flask_altitudeangel")


def create_blueprint(state: AppState) -> Blueprint:
    """Build the sign-in blueprint of one app, whose views use that app's ``state``."""
    bp = Blueprint(NAME, __name__, template_folder="../templates")

    @bp.get("/login")
    @_store_errors
    def login() -> Response:
        """Start a sign-in: remember the attempt, send the browser to the authorize page."""
        answer = _before_sign_in("login")
        if answer is not None:
            return answer
        config = state.server.ready()  # AuthServerUnavailable (503) while they are not known
        next_path = safe_next(request.args.get("next"), config.after_sign_in, NAME)
        current = _session.current(config, state.tokens)
        granted = state.tokens.granted_scope(current.login_id) if current else None
        args = request.args
        scope = requested_scope(
            args.getlist("scope"), args.get("add_scope"), granted, config.scopes
        )
        pending = state.pending.begin(next_path, scope, config.use_pkce)
        try:
            url = state.oauth.authorization_url(
                pending.state, pending.code_verifier, scope, pending.nonce
            )
        except TokenRejected as error:  # a pushed request the server refused (RFC 9126 §2.3)
            raise refused(error.error, 400, next_path, error) from None
        announce(_app(), record.through_the_browser("authorization_request", url, pending.state))
        response = _no_store(redirect(url, 302))
        state.pending.bind(pending, request, response)
        log.info("event=sign_in_started pkce=%s", bool(pending.code_verifier))
        return response

    @bp.get("/callback")
    @_store_errors
    def callback() -> Response:
        """Finish a sign-in: check the response, exchange the code, start a fresh session."""
        answer = _before_sign_in("callback")
        if answer is not None:
            return answer
        state.server.ready()  # the issuer to check, the token endpoint: the metadata's
        params = request.args
        default_next = state.config.after_sign_in
        if not callback_params_are_sound(params):
            raise refused("malformed_callback", 400, default_next)
        announce(_app(), record.callback(state.config.redirect_uri, params))
        pending = _take_pending(state, params["state"])
        if pending is None:
            raise refused("invalid_state", 400, default_next)
        problem = _issuer_problem(state, params.get("iss"))
        if problem:
            raise refused(problem, 400, pending.next)
        if "error" in params:
            error = params["error"]
            refusal = TokenRejected(error, params.get("error_description"))
            raise refused(error, 403 if error == ACCESS_DENIED else 400, pending.next, refusal)
        return redeem(state, params, pending)

    @bp.post("/logout")
    @_store_errors
    def logout() -> Response:
        """Sign out here, then at the authorization server when it offers an end-session URL."""
        origin = request.headers.get("Origin")
        if origin is not None and origin != state.config.origin:
            abort(403)  # a form posted from another site; the host's CSRF check comes on top
        login_id = _session.login_id_in_session()
        hint = state.tokens.id_token(login_id) if login_id else None
        _session.end(state.tokens, wait=True, reason="signed_out")
        events.info("event=signed_out")
        url = end_session_url(state, hint)
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

    _backchannel.register(bp, state)
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


def end_session_url(state: AppState, id_token_hint: str | None = None) -> str | None:
    """Return the RP-Initiated Logout URL that comes back to /signed-out, if there is one.

    ``id_token_hint`` is the login's ID token, when it had one: the provider then knows
    whose sign-in to end without asking.
    """
    config = state.config
    if not config.end_session_url:
        return None
    hint = {"id_token_hint": id_token_hint} if id_token_hint else {}
    query = urlencode(
        {
            "client_id": config.client_id,
            **hint,
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


def _app() -> object:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _url(endpoint: str) -> str:
    return url_for(f"{NAME}.{endpoint}")


def _no_store(response: Response) -> Response:
    """Keep a response out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response

"""Sign-in, callback and sign-out: the authorization-code flow with PKCE and RFC 9207 checks."""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import urlencode

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from portal import flow_steps, metrics, signout
from portal.api import ApiError
from portal.callback_params import callback_params_are_sound
from portal.errors import render_error
from portal.extensions import limiter
from portal.messages import PAGES
from portal.oauth import TokenRejected
from portal.pending import PendingSignIn
from portal.redirects import safe_next
from portal.scopes import requested_scope
from portal.services import services
from portal.tokens import UserToken, token_from_response
from portal.user import end_login, sign_out_locally

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _sign_in_rate() -> str:
    return str(services().settings.login_rate_limit)


@bp.get("/login")
@limiter.limit(_sign_in_rate)
def login_start() -> Response:
    """Start a sign-in: remember the attempt, send the browser to the authorize page."""
    settings = services().settings
    next_path = safe_next(request.args.get("next"))
    scope = requested_scope(request.args, _granted_scope(), settings)
    pending = services().pending.begin(next_path, scope, settings.aa_use_pkce)
    url = services().oauth.authorization_url(pending.state, pending.code_verifier, scope)
    response = no_store(redirect(url, 302))
    services().pending.bind(pending, request, response)
    log.info("event=login_started pkce=%s", bool(pending.code_verifier))
    return response


@bp.get("/callback")
@limiter.limit(_sign_in_rate)
def callback() -> Response:
    """Finish a sign-in: check the response, exchange the code, start a fresh session."""
    params = request.args
    if not callback_params_are_sound(params):
        return refuse("malformed_callback", 400)
    pending = _take_pending(params["state"])
    if pending is None:
        return refuse("invalid_state", 400)
    problem = _check_issuer(params.get("iss"))
    if problem:
        return refuse(problem, 400)
    if "error" in params:
        error = params["error"]
        return refuse(error, 403 if error == "access_denied" else 400, pending.next)
    return _redeem(params, pending)


def _take_pending(state: str) -> PendingSignIn | None:
    """Spend the browser's attempt for ``state``, and expire its cookie whatever happens."""
    expired: list[str] = []
    pending = services().pending.take(state, request.cookies, expired)

    @after_this_request
    def expire_cookies(response: Response) -> Response:
        services().pending.expire(response, expired)
        return response

    return pending


def _redeem(params: MultiDict[str, str], pending: PendingSignIn) -> Response:
    """Exchange the code for tokens and sign the user in."""
    code = params["code"]
    trace_steps = g.setdefault("trace_steps", [])
    trace_steps += flow_steps.sign_in_request(services().settings, pending)
    trace_steps += flow_steps.callback_received(params, "iss" in params)
    started = time.perf_counter()
    try:
        response = services().oauth.exchange_code(code, pending.code_verifier)
        token = token_from_response(response, pending.scope)
    except TokenRejected:
        return refuse("token_rejected", 400)
    except (KeyError, ValueError):
        return refuse("invalid_token_response", 502)
    elapsed_ms = (time.perf_counter() - started) * 1000
    settings = services().settings
    trace_steps += flow_steps.code_exchanged(settings, code, pending, response, elapsed_ms)
    _start_signed_in_session(token)
    metrics.LOGINS.labels("success").inc()
    log.info("event=login_succeeded")
    return no_store(redirect(pending.next, 303))


@bp.post("/logout")
def logout() -> Response:
    """Sign out here, then at the authorization server when it offers an end-session endpoint."""
    sign_out_locally(wait=True)
    log.info("event=signed_out")
    url = end_session_url()
    return no_store(redirect(url or url_for("auth.signed_out"), 303))


@bp.get("/signed-out")
def signed_out() -> Response:
    """Say what sign-out ended: this app's session, and the platform's when it came back."""
    ended_there = signout.came_back(request.args.get("state"))
    page = render_template(
        "signed_out.html",
        ended_there=ended_there,
        end_session_url=None if ended_there else end_session_url(),
        auth_url=services().settings.aa_auth_url,
        revokes=bool(services().settings.aa_revoke_url),
    )
    return no_store(Response(page, mimetype="text/html"))


def end_session_url() -> str | None:
    """Return the RP-Initiated Logout URL that comes back to /signed-out, if there is one."""
    settings = services().settings
    if not settings.aa_end_session_url:
        return None
    query = urlencode(
        {
            "client_id": settings.aa_client_id,
            "post_logout_redirect_uri": settings.aa_post_logout_redirect_uri,
            "state": signout.state(),
        }
    )
    separator = "&" if "?" in settings.aa_end_session_url else "?"
    return settings.aa_end_session_url + separator + query


def _granted_scope() -> str | None:
    """Return the signed-in user's granted scopes, for asking for one more."""
    login_id = session.get("login_id")
    token = services().tokens.get(login_id) if login_id else None
    return token.scope if token else None


def _check_issuer(issuer: str | None) -> str | None:
    """Apply RFC 9207: a response from another issuer is a mix-up attack."""
    settings = services().settings
    if issuer is None:
        return "missing_issuer" if settings.aa_require_iss else None
    if settings.aa_issuer and not secrets.compare_digest(
        issuer.encode(), settings.aa_issuer.encode()
    ):
        return "issuer_mismatch"
    return None


def _start_signed_in_session(token: UserToken) -> None:
    """Store the tokens under a new login id and move the user to a new session id."""
    svc = services()
    now = int(time.time())
    login_id = secrets.token_urlsafe(24)
    saved = svc.tokens.create(
        login_id, token, idle_deadline=now + svc.settings.session_idle_timeout
    )
    name, aa_id = _profile_summary(saved)
    previous_login = session.get("login_id")
    if previous_login:  # a new sign-in (or more consent) replaces the old login and its grant
        end_login(previous_login, wait=False)
    session.clear()
    session.update(
        login_id=login_id,
        user={"name": name, "aa_id": aa_id},
        signed_in_at=now,
        seen_at=now,
    )
    # Create the CSRF secret now, so the first page after sign-in does not write the session.
    generate_csrf()
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]


def _profile_summary(token: UserToken) -> tuple[str, str]:
    """Read the user's profile once, for the name shown on every page."""
    if "query_userinfo" not in token.scopes:
        return "Signed-in user", ""
    try:
        profile = services().api.user_profile(token.access_token)
    except ApiError:
        log.warning("event=profile_unavailable")
        return "Signed-in user", ""
    return profile.display_name, profile.aa_id


def refuse(reason: str, status: int, next_path: str = "/flight-reports") -> Response:
    """Answer a callback that cannot complete the sign-in: a page that offers a way on."""
    known = reason if reason in PAGES else "other"
    metrics.LOGINS.labels(known).inc()
    log.info("event=login_refused reason=%s", known)
    return render_error(status, known, next_path=next_path)


def no_store(response: Response) -> Response:
    """Keep a response out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response

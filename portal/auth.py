"""Sign-in, callback and sign-out: the authorization-code flow with PKCE and RFC 9207 checks."""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from portal import flow_steps, login, metrics, signout
from portal.api import ApiError
from portal.errors import render_error
from portal.messages import PAGES
from portal.oauth import TokenRejected
from portal.redirects import safe_next
from portal.scopes import requested_scope
from portal.services import services
from portal.tokens import UserToken, token_from_response
from portal.user import sign_out_locally

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


@bp.get("/login")
def login_start() -> Response:
    """Start a sign-in: remember the transaction, send the browser to the authorize page."""
    settings = services().settings
    next_path = safe_next(request.args.get("next"))
    scope = requested_scope(request.args, _granted_scope(), settings)
    tx = login.begin(session, next_path, scope, settings.aa_use_pkce)
    url = services().oauth.authorization_url(tx.state, tx.code_verifier, scope)
    log.info("event=login_started pkce=%s", bool(tx.code_verifier))
    return no_store(redirect(url, 302))


@bp.get("/callback")
def callback() -> Response:
    """Finish a sign-in: check the response, exchange the code, start a fresh session."""
    params = request.args
    tx = login.take(session, params.get("state"))
    if tx is None or not login.claim(services().redis, tx.state):
        return refuse("invalid_state", 400)
    problem = _check_issuer(params.get("iss"))
    if problem:
        return refuse(problem, 400)
    if "error" in params:
        return refuse(params["error"], 400 if params["error"] != "access_denied" else 403, tx.next)
    code = params.get("code")
    if not code or len(code) > 2048:
        return refuse("invalid_request", 400)
    trace_steps = g.setdefault("trace_steps", [])
    trace_steps += flow_steps.sign_in_request(services().settings, tx)
    trace_steps += flow_steps.callback_received(params, "iss" in params)
    started = time.perf_counter()
    try:
        response = services().oauth.exchange_code(code, tx.code_verifier)
        token = token_from_response(response, tx.scope)
    except TokenRejected:
        return refuse("token_rejected", 400)
    except (KeyError, ValueError):
        return refuse("invalid_token_response", 502)
    elapsed_ms = (time.perf_counter() - started) * 1000
    trace_steps += flow_steps.code_exchanged(services().settings, code, tx, response, elapsed_ms)
    _start_signed_in_session(token)
    metrics.LOGINS.labels("success").inc()
    log.info("event=login_succeeded")
    return no_store(redirect(tx.next, 303))


@bp.post("/logout")
def logout() -> Response:
    """Sign out here, then at the authorization server when it offers an end-session endpoint."""
    sign_out_locally(revoke=True)
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
    if settings.aa_issuer and not secrets.compare_digest(issuer, settings.aa_issuer):
        return "issuer_mismatch"
    return None


def _start_signed_in_session(token: UserToken) -> None:
    """Store the tokens under a new login id and move the user to a new session id."""
    svc = services()
    login_id = secrets.token_urlsafe(24)
    saved = svc.tokens.create(login_id, token)
    name, aa_id = _profile_summary(saved)
    previous_login = session.get("login_id")
    if previous_login:
        svc.tokens.clear(previous_login)
    now = int(time.time())
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

"""One friendly answer per failure kind: an HTML page, or JSON for JSON clients; no tracebacks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from flask_altitudeangel import (
    ApiError,
    ApiUnavailable,
    AuthServerUnavailable,
    Forbidden,
    InsufficientScope,
    SignInFailed,
    SignInRequired,
    StorageUnavailable,
    own_page,
)
from portal import metrics
from portal.extensions import aa
from portal.messages import PAGES, Message
from portal.platform import NotFound
from portal.rate_limits import SignInsTooFast
from portal.sessions import SessionStoreUnavailable

log = logging.getLogger(__name__)
DEFAULT_NEXT = "/flight-reports"


def register_error_handlers(app: Flask) -> None:
    """Map every failure to its answer."""
    app.register_error_handler(SignInRequired, sign_in_required)
    app.register_error_handler(SignInFailed, sign_in_failed)
    app.register_error_handler(InsufficientScope, insufficient_scope)
    app.register_error_handler(Forbidden, lambda e: render_error(403, "forbidden"))
    app.register_error_handler(AuthServerUnavailable, unavailable)
    app.register_error_handler(ApiUnavailable, unavailable)
    app.register_error_handler(ApiError, lambda e: render_error(502, "api_error"))
    app.register_error_handler(NotFound, lambda e: render_error(404, "not_found"))
    app.register_error_handler(SessionStoreUnavailable, store_unavailable)
    app.register_error_handler(RedisError, store_unavailable)
    app.register_error_handler(StorageUnavailable, store_unavailable)
    app.register_error_handler(CSRFError, lambda e: render_error(400, "csrf"))
    app.register_error_handler(SignInsTooFast, rate_limited)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, internal_error)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def render_error(
    status: int, kind: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """Answer with the page (or JSON) for ``kind``, with the given status."""
    response: Response
    if wants_json():
        shown = {k: v for k, v in extra.items() if k in ("scope", "retry_after")}
        response = jsonify({"error": kind, **shown})
    else:
        message = PAGES.get(kind) or Message(
            extra.get("title", "Error"), extra.get("description", ""), "Home", "home"
        )
        page = render_template(
            "error.html",
            message=message,
            status=status,
            action_url=_action_url(message, extra),
            refusal=extra.get("refusal"),
        )
        response = Response(page, mimetype="text/html")
    response.status_code = status
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def _action_url(message: Message, extra: dict[str, Any]) -> str:
    next_path = extra.get("next_path") or DEFAULT_NEXT
    if message.target == "login":
        return url_for("altitudeangel.login", next=next_path)
    if message.target == "grant":
        return url_for("altitudeangel.login", add_scope=extra.get("scope", ""), next=next_path)
    if message.target == "retry" and request.method == "GET":
        return _retry_url()
    return "/"


def _retry_url() -> str:
    """Link back to the page that failed, if it is one of ours: its path is the requester's."""
    if request.endpoint == "altitudeangel.login":  # the login validates its own arguments
        args = request.args
        scopes = tuple(args.getlist("scope"))
        return aa.sign_in_url(args.get("next"), scopes, args.get("add_scope", ""))
    return own_page(request.full_path.rstrip("?"), "/")


def _this_page() -> str | None:
    return request.full_path.rstrip("?") if request.method == "GET" else None


def sign_in_required(error: SignInRequired) -> Response:
    """Offer a way to sign in, back to this page; never bounce to the authorization server.

    A bounce would sign a user who just signed out straight back in wherever the authorization
    server still remembers them: signing in again must be the user's own action.
    """
    return render_error(401, "sign_in_required", next_path=error.next_path or _this_page())


def sign_in_failed(error: SignInFailed) -> Response:
    """Answer a callback that cannot complete the sign-in: a page that offers a way on."""
    kind = error.reason if error.reason in PAGES else "other"
    if error.server_error and PAGES[kind] in (PAGES["invalid_request"], PAGES["other"]):
        kind = "refused_by_server"  # not a guess at what happened: the server's own words follow
    return render_error(error.code or 400, kind, next_path=error.next_path, refusal=error)


def insufficient_scope(error: InsufficientScope) -> Response:
    """Offer to grant just the missing scope (incremental authorization), never a refresh loop."""
    return render_error(403, "insufficient_scope", scope=error.scope, next_path=_this_page())


def unavailable(error: AuthServerUnavailable | ApiUnavailable) -> Response:
    """The platform could not answer now; the user keeps their sign-in."""
    log.warning("event=upstream_unavailable kind=%s", type(error).__name__)
    retry = str(error.retry_after or 5)
    return render_error(503, "upstream_unavailable", {"Retry-After": retry}, retry_after=retry)


def store_unavailable(error: Exception) -> Response:
    metrics.REDIS_ERRORS.inc()
    log.error("event=redis_unavailable")
    return render_error(503, "store_unavailable", {"Retry-After": "5"}, retry_after="5")


def rate_limited(error: SignInsTooFast) -> Response:
    """Too many sign-ins from one address: say so, and when to come back."""
    log.warning("event=rate_limited path=%s", request.path)
    return render_error(429, "rate_limited", {"Retry-After": "60"}, retry_after="60")


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return render_error(status, "http", title=error.name, description=error.description)


def internal_error(error: Exception) -> Response:
    """Log the traceback with the request id (never the query or a token), show a page."""
    log.error("event=unhandled_error type=%s", type(error).__name__, exc_info=error)
    return render_error(500, "internal")

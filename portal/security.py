"""Per-request security: session lifetimes, and the headers every response carries."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, Response, g, request, session

from portal.refresh import SignInRequired
from portal.services import services
from portal.sessions import SessionStoreUnavailable
from portal.user import sign_out_locally


def register_security(app: Flask) -> None:
    app.before_request(enforce_session_limits)
    app.after_request(add_security_headers)


def enforce_session_limits() -> None:
    """End a login past its idle or absolute limit; Redis TTLs alone would only slide."""
    if g.get("session_store_down"):
        raise SessionStoreUnavailable()
    if "login_id" not in session:
        return
    settings = services().settings
    now = int(time.time())
    idle = now - session.get("seen_at", 0)
    if (
        now - session.get("signed_in_at", 0) > settings.session_absolute_timeout
        or idle > settings.session_idle_timeout
    ):
        sign_out_locally(revoke=True)
        raise SignInRequired()
    # Slide the idle limit, but write the session only now and then, not on every request.
    if idle > settings.session_idle_timeout // 10:
        session["seen_at"] = now


def _content_security_policy() -> str:
    auth = urlsplit(services().settings.aa_authorize_url)
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self' {auth.scheme}://{auth.netloc}; "
        "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
    )


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")
    return response

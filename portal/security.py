"""Per-request security: session lifetimes, and the headers every response carries."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import g, request, session
from werkzeug.wrappers import Response

from portal.refresh import SignInRequired
from portal.services import services
from portal.sessions import SessionStoreUnavailable
from portal.user import sign_out_locally


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


class SecurityHeaders:
    """The headers every response carries, built once: this runs on every request."""

    def __init__(self, authorize_url: str) -> None:
        auth = urlsplit(authorize_url)
        # form-action names the authorization server: the sign-in form redirects there.
        csp = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; "
            f"form-action 'self' {auth.scheme}://{auth.netloc}; "
            "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
        )
        self._always = [
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
        ]

    def add(self, response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        wanted = list(self._always)
        if request.is_secure:
            wanted.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
        if request.endpoint != "static":
            wanted.append(("Cache-Control", "no-store"))
        headers.extend([(k, v) for k, v in wanted if k.lower() not in present])
        return response

"""Per-request security: session lifetimes, cross-site form posts, and the response headers."""

from __future__ import annotations

import time

from flask import g, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from portal.refresh import SignInRequired
from portal.services import services
from portal.sessions import SessionStoreUnavailable
from portal.settings import public_origin
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
        sign_out_locally()
        raise SignInRequired()
    # Slide the idle limit, but write the session only now and then, not on every request.
    if idle > settings.session_idle_timeout // 10:
        session["seen_at"] = now
        services().tokens.seen(session["login_id"], now + settings.session_idle_timeout)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_cross_origin(own_origin: str) -> None:
    """Refuse a state-changing request whose ``Origin`` is not this app's.

    Two checks guard every form post, on top of Flask-WTF's CSRF token: this one, and, over
    HTTPS, Flask-WTF's check that the ``Referer`` is this host. Both need the browser to say
    where a post comes from, which is why pages carry ``Referrer-Policy: same-origin``: with
    ``no-referrer`` a browser sends no ``Referer`` and ``Origin: null`` on every post, and
    every post over HTTPS would be refused. ``same-origin`` still tells other sites nothing.
    A request without ``Origin`` (an old browser, a script) still needs the CSRF token.
    """
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin != own_origin:
        raise CSRFError("The request came from another site.")


class SecurityHeaders:
    """The headers every response carries, built once: this runs on every request."""

    def __init__(self, *redirect_targets: str) -> None:
        # form-action also covers where a form's answer redirects: the sign-in form goes on
        # to the authorize endpoint, the sign-out form to the end-session endpoint.
        origins = dict.fromkeys(public_origin(url) for url in redirect_targets if url)
        csp = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; "
            f"form-action 'self' {' '.join(origins)}; "
            "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
        )
        self._always = [
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            # Same-origin requests keep their Referer and Origin (see refuse_cross_origin);
            # other sites, the authorization server included, are told nothing.
            ("Referrer-Policy", "same-origin"),
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

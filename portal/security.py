"""Per-request security: cross-site form posts, and the headers every response carries."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.wrappers import Response

from portal.sessions import SessionStoreUnavailable

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_when_the_store_is_down() -> None:
    """Answer 503 at once when the session could not be read, instead of acting without it."""
    if g.get("session_store_down"):
        raise SessionStoreUnavailable()


def create_the_csrf_secret(app: Flask, **extra: Any) -> None:
    """At sign-in, so that the first page after it does not write the session again."""
    generate_csrf()


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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeaders:
    """The headers every response carries, built once: this runs on every request."""

    def __init__(self, *redirect_targets: str) -> None:
        # form-action also covers where a form's answer redirects: the sign-in form goes on
        # to the authorize endpoint, the sign-out form to the end-session endpoint.
        origins = dict.fromkeys(_origin(url) for url in redirect_targets if url)
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

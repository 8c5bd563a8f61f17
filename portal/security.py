"""Per-request security: cross-site form posts, and the headers every response carries."""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, request
from flask.ctx import _AppCtxGlobals
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from portal.sessions import SessionStoreUnavailable

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_ID_HEADER = "X-Request-ID"


def refuse_when_the_store_is_down(here: _AppCtxGlobals) -> None:
    """Answer 503 at once when the session could not be read, instead of acting without it.

    ``here`` is the request's g.
    """
    if here.get("session_store_down"):
        raise SessionStoreUnavailable()


def create_the_csrf_secret(app: Flask, **extra: Any) -> None:
    """At sign-in, so that the first page after it does not write the session again."""
    generate_csrf()


def refuse_cross_origin(asked: Request, own_origin: str) -> None:
    """Refuse a state-changing request whose ``Origin`` is not this app's.

    Two checks guard every form post, on top of Flask-WTF's CSRF token: this one, and, over
    HTTPS, Flask-WTF's check that the ``Referer`` is this host. Both need the browser to say
    where a post comes from, which is why pages carry ``Referrer-Policy: same-origin``: with
    ``no-referrer`` a browser sends no ``Referer`` and ``Origin: null`` on every post, and
    every post over HTTPS would be refused. ``same-origin`` still tells other sites nothing.
    A request without ``Origin`` (an old browser, a script) still needs the CSRF token.
    """
    if asked.method not in UNSAFE_METHODS:
        return
    origin = asked.headers.get("Origin")
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
        always = [
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            # Same-origin requests keep their Referer and Origin (see refuse_cross_origin);
            # other sites, the authorization server included, are told nothing.
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
        ]
        hsts = [("Strict-Transport-Security", "max-age=63072000; includeSubDomains")]
        no_store = [("Cache-Control", "no-store")]
        # By (over HTTPS, a static file): the headers, and their names in lowercase.
        self._wanted: dict[tuple[bool, bool], tuple[list[tuple[str, str]], frozenset[str]]] = {}
        for secure in (False, True):
            for static in (False, True):
                wanted = always + (hsts if secure else []) + ([] if static else no_store)
                # Checked once here as Headers checks what it is given (no newline in a
                # value: the endpoints' origins come from the server's metadata).
                wanted = list(Headers(wanted).items())
                names = frozenset(k.lower() for k, _ in [*wanted, (REQUEST_ID_HEADER, "")])
                self._wanted[secure, static] = wanted, names

    def add(self, response: Response, request_id: str) -> Response:
        """Add the headers the view did not set itself, and ``X-Request-ID``, whatever it set.

        ``request_id`` is one ``portal.logs.assign_request_id`` made or took: letters, digits
        and dashes, nothing to check again.
        """
        # The request itself: each attribute read through the proxy costs ~8,000 instructions.
        current = request._get_current_object()  # type: ignore[attr-defined]
        wanted, names = self._wanted[current.is_secure, current.endpoint == "static"]
        headers = response.headers
        for name, _ in headers:  # a loop, not any() over a generator: this runs on every request
            if name.lower() in names:  # the view set some itself
                present = {name.lower() for name, _ in headers}
                wanted = [(k, v) for k, v in wanted if k.lower() not in present]
                headers.remove(REQUEST_ID_HEADER)
                break
        # Into the pairs themselves: extend() would check each value again, and setting the
        # request id would look through them all once more, every response.
        pairs = headers._list  # pinned by tests/portal/test_headers.py
        pairs.extend(wanted)
        pairs.append((REQUEST_ID_HEADER, request_id))
        return response


class ProxyFixFromProxies:
    """Believe X-Forwarded-For/-Proto only when the peer is one of the configured proxies.

    Werkzeug's ProxyFix believes any peer: whoever reaches gunicorn directly would choose the
    address the per-address sign-in limit counts, and claim HTTPS. The same list tells
    gunicorn (FORWARDED_ALLOW_IPS) whose scheme headers to take.
    """

    def __init__(
        self, app: Any, proxies: int, allowed: Iterable[IPv4Network | IPv6Network]
    ) -> None:
        self._app = app
        self._fixed = ProxyFix(app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0)
        self._allowed = tuple(allowed)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._from_a_proxy(environ.get("REMOTE_ADDR", "")):
            return self._fixed(environ, start_response)
        return self._app(environ, start_response)

    def _from_a_proxy(self, peer: str) -> bool:
        try:
            address = ip_address(peer)
        except ValueError:  # a Unix socket's peer has no address: only a local proxy uses one
            return False
        return any(address in network for network in self._allowed)

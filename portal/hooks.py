"""What runs around every request, in order: one hook before and one after the view.

Flask wraps each registered hook on every request, so the steps are called from here rather
than registered one by one.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask, g, request
from werkzeug.wrappers import Response

from flask_altitudeangel import signals
from portal.extensions import aa, csrf
from portal.logs import assign_request_id
from portal.security import (
    UNSAFE_METHODS,
    SecurityHeaders,
    create_the_csrf_secret,
    refuse_cross_origin,
    refuse_when_the_store_is_down,
)
from portal.trace import recorder


def register_request_hooks(app: Flask) -> None:
    # With the trace off nothing is ever heard, and there is nothing to write.
    flush_the_trace = app.config["PORTAL_SETTINGS"].flow_trace
    # Flask-WTF's own hook reads the request through its proxy seven times before it finds
    # that a GET needs no check; here it is asked only for the methods it checks.
    csrf_checked = app.config["WTF_CSRF_METHODS"]

    def before() -> None:
        # The request and g themselves: an attribute read through their proxies costs ~8,000
        # instructions, and this runs on every request.
        asked = request._get_current_object()  # type: ignore[attr-defined]
        here = g._get_current_object()
        if asked.method in csrf_checked and app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)
        assign_request_id(asked, here)
        refuse_when_the_store_is_down(here)
        if asked.method in UNSAFE_METHODS:  # only these are refused: no settings read for a GET
            refuse_cross_origin(asked, aa.config.origin)

    def after(response: Response) -> Response:
        if flush_the_trace:
            recorder.flush()
        # The endpoints are the server's once its metadata has been read, after start-up.
        config = aa.config
        request_id = g._get_current_object().get("request_id", "")
        return security_headers(config.authorize_url, config.end_session_url).add(
            response, request_id
        )

    def template_names() -> dict[str, Any]:
        return {"current_login": aa.current_login}

    app.before_request(before)
    app.after_request(after)
    app.context_processor(template_names)
    signals.signed_in.connect(create_the_csrf_secret, sender=app, weak=False)


@functools.lru_cache(maxsize=4)
def security_headers(*redirect_targets: str) -> SecurityHeaders:
    """Return the headers for these endpoints, built once: they go on every response."""
    return SecurityHeaders(*redirect_targets)

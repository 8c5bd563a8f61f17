"""What runs around every request, in order: one hook before and one after the view.

Flask wraps each registered hook on every request, so the steps are called from here rather
than registered one by one.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

from portal.flow import flush_trace
from portal.logs import assign_request_id, echo_request_id
from portal.security import SecurityHeaders, enforce_session_limits, refuse_cross_origin
from portal.settings import public_origin


def register_request_hooks(app: Flask) -> None:
    settings = app.config["PORTAL_SETTINGS"]
    headers = SecurityHeaders(settings.aa_authorize_url, settings.aa_end_session_url)
    own_origin = public_origin(settings.aa_redirect_uri)

    def before() -> None:
        assign_request_id()
        refuse_cross_origin(own_origin)
        enforce_session_limits()

    def after(response: Response) -> Response:
        flush_trace()
        headers.add(response)
        echo_request_id(response)
        return response

    app.before_request(before)
    app.after_request(after)

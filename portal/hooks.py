"""What runs around every request, in order: one hook before and one after the view.

Flask wraps each registered hook on every request, so the steps are called from here rather
than registered one by one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.wrappers import Response

from flask_altitudeangel import signals
from portal.extensions import aa
from portal.logs import assign_request_id, echo_request_id
from portal.security import (
    SecurityHeaders,
    create_the_csrf_secret,
    refuse_cross_origin,
    refuse_when_the_store_is_down,
)
from portal.trace import recorder


def register_request_hooks(app: Flask) -> None:
    with app.app_context():
        config = aa.config  # with the endpoints the server's metadata named
    headers = SecurityHeaders(config.authorize_url, config.end_session_url)
    own_origin = config.origin

    def before() -> None:
        assign_request_id()
        refuse_when_the_store_is_down()
        refuse_cross_origin(own_origin)

    def after(response: Response) -> Response:
        recorder.flush()
        headers.add(response)
        echo_request_id(response)
        return response

    def template_names() -> dict[str, Any]:
        return {"current_login": aa.current_login}

    app.before_request(before)
    app.after_request(after)
    app.context_processor(template_names)
    signals.signed_in.connect(create_the_csrf_secret, sender=app, weak=False)

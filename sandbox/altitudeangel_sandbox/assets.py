"""The sandbox's favicon, also at /favicon.ico, which browsers ask every origin for."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory

bp = Blueprint("assets", __name__)

FAVICON = "favicon.svg"
ONE_DAY = 86400


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Answer the browser's default icon request with the sandbox's SVG icon."""
    static = current_app.static_folder or ""
    return send_from_directory(static, FAVICON, mimetype="image/svg+xml", max_age=ONE_DAY)

"""Error answers: JSON for the API and OAuth endpoints, the sandbox's own page for browsers."""

from __future__ import annotations

import logging

import redis
from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from altitudeangel_sandbox.state import current_sandbox

log = logging.getLogger(__name__)

PAGE_PREFIXES = ("/sandbox/",)


class InvalidInput(ValueError):
    """The input is malformed; ``fields`` says why, per field."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid input")
        self.fields = fields


def api_error(status: int, error: str, description: str) -> tuple[Response, int]:
    """Return an ``{"error", "error_description"}`` answer."""
    response = jsonify({"error": error, "error_description": description})
    response.headers["Cache-Control"] = "no-store"
    return response, status


def invalid_request(fields: dict[str, str]) -> tuple[Response, int]:
    """Return the API's 400 answer naming each bad field."""
    body = {
        "error": "invalid_request",
        "error_description": "Some fields are invalid.",
        "fields": fields,
    }
    return jsonify(body), 400


def _wants_page() -> bool:
    path = request.path
    paths = current_sandbox().settings.paths
    pages = (paths.authorize, paths.end_session)
    return path == "/" or path.startswith(PAGE_PREFIXES) or path in pages


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.code is None or error.code < 400:
        return error.get_response()
    if _wants_page():
        page = render_template("sandbox/error.html", title=error.name, message=error.description)
        return page, error.code
    slug = error.name.lower().replace(" ", "_")
    response, status = api_error(error.code, slug, error.description or error.name)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110 §15.5.6
    return response, status


def _unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return _http_error(InternalServerError())


def _storage_down(error: redis.RedisError) -> tuple[Response, int]:
    log.error("Redis failed: %s", error)
    return api_error(503, "temporarily_unavailable", "The sandbox's storage is unavailable.")


def register_error_handlers(app: Flask) -> None:
    """Answer every failure in the shape its caller expects, never with a traceback."""
    app.register_error_handler(InvalidInput, lambda error: invalid_request(error.fields))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(redis.RedisError, _storage_down)
    app.register_error_handler(Exception, _unexpected)

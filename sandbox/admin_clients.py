"""Test-only client registration through the admin API, behind the same shared secret."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from sandbox.admin import json_object, require_admin_secret
from sandbox.client_input import parse_client
from sandbox.context import services
from sandbox.errors import api_error

bp = Blueprint("admin_clients", __name__, url_prefix="/_sandbox")
bp.before_request(require_admin_secret)


@bp.post("/clients")
def register_client() -> tuple[Response, int]:
    """Register a whole new client for a week; answer with its registration and secret."""
    registry = services().registry
    record, secret = parse_client(json_object(), registry.scopes)
    if not registry.register(record):
        return api_error(409, "conflict", "A client with this client_id exists already.")
    shown = {name: value for name, value in record.items() if name != "client_secret_sha256"}
    if secret is not None:
        shown["client_secret"] = secret
    return jsonify(shown), 201

"""Test-only client registration through the admin API, behind the same shared secret."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from altitudeangel_sandbox.admin.client_input import parse_client, parse_jwks
from altitudeangel_sandbox.admin.endpoints import json_object, require_admin_secret
from altitudeangel_sandbox.errors import InvalidInput, api_error
from altitudeangel_sandbox.state import current_sandbox

bp = Blueprint("admin_clients", __name__, url_prefix="/_sandbox")
bp.before_request(require_admin_secret)


@bp.post("/clients")
def register_client() -> tuple[Response, int]:
    """Register a whole new client for a week; answer with its registration and secret."""
    registry = current_sandbox().registry
    record, secret = parse_client(json_object(), registry.scopes)
    if not registry.register(record):
        return api_error(409, "conflict", "A client with this client_id exists already.")
    shown = {name: value for name, value in record.items() if name != "client_secret_sha256"}
    if secret is not None:
        shown["client_secret"] = secret
    return jsonify(shown), 201


@bp.put("/clients/<client_id>/jwks")
def register_jwks(client_id: str) -> tuple[Response, int]:
    """Register the JWK Set a client's private_key_jwt assertions are verified with."""
    registry = current_sandbox().registry
    client = registry.client(client_id)
    if client is None:
        return api_error(404, "not_found", "No such client.")
    if client.is_public:
        raise InvalidInput({"client_id": "is a public client, which authenticates with nothing"})
    try:
        jwks = parse_jwks(json_object())
    except ValueError as problem:
        raise InvalidInput({"keys": str(problem)}) from None
    registry.added.set_jwks(client_id, jwks)
    return jsonify({"client_id": client_id, "kids": [item["kid"] for item in jwks["keys"]]}), 200

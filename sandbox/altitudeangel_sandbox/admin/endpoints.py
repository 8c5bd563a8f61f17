"""Test-only administration: extra client URIs and fault injection, behind a shared secret."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from altitudeangel_sandbox.admin.client_input import is_redirect_uri
from altitudeangel_sandbox.errors import InvalidInput, api_error
from altitudeangel_sandbox.faults import (
    KINDS,
    MAX_COUNT,
    MAX_DRIP_INTERVAL,
    MAX_HANG_SECONDS,
    MIN_DRIP_INTERVAL,
    Fault,
)
from altitudeangel_sandbox.oauth.clients import (
    BACKCHANNEL_LOGOUT_URIS,
    POST_LOGOUT_REDIRECT_URIS,
    REDIRECT_URIS,
)
from altitudeangel_sandbox.state import current_sandbox

bp = Blueprint("admin", __name__, url_prefix="/_sandbox")

URI_KINDS = {
    "redirect_uri": REDIRECT_URIS,
    "post_logout_redirect_uri": POST_LOGOUT_REDIRECT_URIS,
    "backchannel_logout_uri": BACKCHANNEL_LOGOUT_URIS,
}


@bp.before_request
def require_admin_secret() -> tuple[Response, int] | None:
    """Hide the admin API without a configured secret; refuse callers without it."""
    secret = current_sandbox().settings.admin_secret
    if not secret:
        abort(404)
    given = request.headers.get("X-Sandbox-Admin", "")
    if not hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8")):
        return api_error(403, "forbidden", "The X-Sandbox-Admin header is missing or wrong.")
    return None


def json_object() -> dict[str, Any]:
    """Return the request's JSON object body, or raise naming the body as invalid."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise InvalidInput({"body": "must be a JSON object (Content-Type: application/json)"})
    return body


@bp.post("/redirect-uris")
def add_redirect_uri() -> tuple[Response, int]:
    """Register one more redirect, post-logout redirect or back-channel logout URI for a client."""
    body = json_object()
    registry = current_sandbox().registry
    fields = {}
    if registry.client(str(body.get("client_id", ""))) is None:
        fields["client_id"] = "is not a registered client"
    given = {name: body[name] for name in URI_KINDS if body.get(name) is not None}
    if not given:
        fields["redirect_uri"] = (
            "give a redirect_uri, a post_logout_redirect_uri, a backchannel_logout_uri or several"
        )
    for name, value in given.items():
        if not is_redirect_uri(value):
            fields[name] = "must be an absolute http(s) URL without a fragment"
    if fields:
        raise InvalidInput(fields)
    for name, value in given.items():
        registry.added.add(URI_KINDS[name], body["client_id"], value)
    return jsonify({"client_id": body["client_id"], **given}), 201


def _is_number(value: Any, low: float, high: float) -> bool:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return numeric and low <= value <= high


def _parse_fault(body: dict[str, Any]) -> tuple[str, Fault, int]:
    fields: dict[str, str] = {}
    target, kind = body.get("target"), body.get("kind")
    count, seconds = body.get("count", 1), body.get("seconds", 30)
    interval = body.get("interval", 1.0)
    if target not in KINDS:
        fields["target"] = f"must be one of {', '.join(sorted(KINDS))}"
    elif kind not in KINDS[target]:
        fields["kind"] = f"must be one of {', '.join(sorted(KINDS[target]))}"
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        fields["count"] = f"must be a whole number from 1 to {MAX_COUNT}"
    if not _is_number(seconds, 0, MAX_HANG_SECONDS):
        fields["seconds"] = f"must be a number from 0 to {MAX_HANG_SECONDS}"
    if not _is_number(interval, MIN_DRIP_INTERVAL, MAX_DRIP_INTERVAL):
        fields["interval"] = f"must be a number from {MIN_DRIP_INTERVAL} to {MAX_DRIP_INTERVAL}"
    if fields:
        raise InvalidInput(fields)
    return str(target), Fault(str(kind), float(seconds), float(interval)), count


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults() -> Response | tuple[Response, int]:
    """Queue a fault (POST), list the queue (GET) or clear it (DELETE)."""
    queue = current_sandbox().faults
    if not queue.enabled:
        return api_error(404, "not_found", "Fault injection is off: start with SANDBOX_FAULTS=1.")
    if request.method == "DELETE":
        queue.clear()
        return jsonify({"cleared": True}), 200
    if request.method == "GET":
        return jsonify(queue.pending()), 200
    target, fault, count = _parse_fault(json_object())
    queue.add(target, fault, count)
    return jsonify({"target": target, "kind": fault.kind, "count": count}), 201

"""The flight reports API: list, read, create and complete the signed-in user's reports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from altitudeangel_sandbox.api.report_input import parse_report
from altitudeangel_sandbox.api.resource import current_user, require_token
from altitudeangel_sandbox.errors import InvalidInput, api_error, invalid_request
from altitudeangel_sandbox.settings import Settings
from altitudeangel_sandbox.state import current_sandbox

SCOPE = "manage_flightreports"
MAX_PER_PAGE = 100


def _paging() -> tuple[int, int]:
    fields: dict[str, str] = {}
    values = {"page": 1, "per_page": 20}
    for name, high in (("page", 1_000_000), ("per_page", MAX_PER_PAGE)):
        raw = request.args.get(name)
        if raw is None:
            continue
        if not raw.isdigit() or not 1 <= int(raw) <= high:
            fields[name] = f"must be a whole number from 1 to {high}"
        else:
            values[name] = int(raw)
    if fields:
        raise InvalidInput(fields)
    return values["page"], values["per_page"]


@require_token(SCOPE, user=True)
def list_reports() -> Response:
    """List the user's reports, newest start first, a page at a time."""
    page, per_page = _paging()
    items, total = current_sandbox().reports.page(current_user().username, page, per_page)
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total})


@require_token(SCOPE, user=True)
def get_report(flight_id: str) -> Response | tuple[Response, int]:
    """Return one of the user's reports; another user's is as unknown as a missing one."""
    report = current_sandbox().reports.get(current_user().username, flight_id)
    if report is None:
        return api_error(404, "not_found", "No such flight report.")
    return jsonify(report)


@require_token(SCOPE, user=True)
def create_report() -> tuple[Response, int]:
    """Create a report from the JSON body; write nothing unless every field is valid."""
    body: Any = request.get_json(silent=True) if request.is_json else None
    if body is None:
        return invalid_request({"body": "must be a JSON object (Content-Type: application/json)"})
    fields = parse_report(body)
    report = current_sandbox().reports.create(current_user().username, fields)
    return jsonify({"flightId": report["flightId"]}), 201


@require_token(SCOPE, user=True)
def complete_report(flight_id: str) -> Response | tuple[Response, int]:
    """Complete (end) a report; completing it again is a conflict."""
    reports = current_sandbox().reports
    username = current_user().username
    if reports.get(username, flight_id) is None:
        return api_error(404, "not_found", "No such flight report.")
    completed = reports.complete(username, flight_id)
    if completed is None:
        return api_error(409, "conflict", "The flight report is already completed.")
    return jsonify(completed)


def create_blueprint(settings: Settings) -> Blueprint:
    """Return the flight reports API; the platform documents only filing and completing."""
    bp = Blueprint("flights", __name__)
    bp.add_url_rule("/flightReport", "create_report", create_report, methods=["PUT"])
    bp.add_url_rule(
        "/flightReport/<flight_id>", "complete_report", complete_report, methods=["DELETE"]
    )
    if not settings.documented_only:
        bp.add_url_rule("/flightReport", "list_reports", list_reports, methods=["GET"])
        bp.add_url_rule("/flightReport/<flight_id>", "get_report", get_report, methods=["GET"])
    return bp

"""Flight report pages: the list, one report with its sketch, a new report, completing one."""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from flask_altitudeangel import login_required
from portal.extensions import platform
from portal.forms import COMMON_TIMEZONES, FlightReportForm
from portal.platform import Conflict, ValidationFailed
from portal.sketch import SIZE, draw, surroundings

bp = Blueprint("flights", __name__, url_prefix="/flight-reports")
PER_PAGE = 10


@bp.get("")
@login_required
def index() -> str:
    """List the signed-in user's reports, newest first."""
    # The request and app themselves: an attribute read through their proxies costs more.
    asked = request._get_current_object()  # type: ignore[attr-defined]
    page = asked.args.get("page", "1")
    # isdigit() alone also holds for "²" and "①", which int() refuses, and for other
    # scripts' digits, which int() reads: a page number is ASCII digits only.
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 10_000:
        abort(400, "page must be a whole number from 1")
    reports = platform.list_reports(int(page), PER_PAGE)
    area = current_app._get_current_object().config["PORTAL_SETTINGS"].reports_area  # type: ignore[attr-defined]
    return render_template("flights/index.html", reports=reports, reports_area=area)


@bp.get("/<flight_id:flight_id>")
@login_required
def show(flight_id: str) -> str:
    """Show one report and a sketch of its area with the map features around it."""
    report = platform.get_report(flight_id)
    box = surroundings(report)
    shapes = draw(report, box, platform.map_features(box)) if box else []
    return render_template("flights/show.html", report=report, shapes=shapes, size=SIZE)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    """File a new report; field errors are shown beside the inputs."""
    form = FlightReportForm()
    if form.validate_on_submit():
        try:
            flight_id = platform.create_report(form.to_api())
        except ValidationFailed as error:
            form.add_api_errors(error.fields)
        else:
            return redirect(url_for("flights.show", flight_id=flight_id), 303)
    status = 400 if form.errors else 200
    page = render_template("flights/new.html", form=form, timezones=COMMON_TIMEZONES)
    return Response(page, status, mimetype="text/html")


@bp.post("/<flight_id:flight_id>/complete")
@login_required
def complete(flight_id: str) -> Response:
    """Complete (end) a report; completing it twice is not an error worth a page."""
    with suppress(Conflict):
        platform.complete_report(flight_id)
    return redirect(url_for("flights.show", flight_id=flight_id), 303)

"""Flight report pages: the list, one report with its sketch, a new report, completing one."""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

from portal.api import FLIGHT_ID, Conflict, ValidationFailed
from portal.forms import COMMON_TIMEZONES, FlightReportForm
from portal.services import services
from portal.sketch import SIZE, draw, surroundings
from portal.user import client_call, login_required, user_call

bp = Blueprint("flights", __name__, url_prefix="/flight-reports")


class FlightIdConverter(BaseConverter):
    """Match only well-formed flight ids: any other id is a 404 before a view runs."""

    regex = FLIGHT_ID.pattern


PER_PAGE = 10


@bp.get("")
def index() -> str:
    """List the signed-in user's reports, newest first."""
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 10_000:
        abort(400, "page must be a whole number from 1")
    api = services().api
    reports = user_call(lambda token: api.list_reports(token, int(page), PER_PAGE))
    return render_template("flights/index.html", reports=reports)


@bp.get("/<flight_id:flight_id>")
def show(flight_id: str) -> str:
    """Show one report and a sketch of its area with the map features around it."""
    api = services().api
    report = user_call(lambda token: api.get_report(token, flight_id))
    box = surroundings(report)
    features = client_call(lambda token: api.map_features(token, box))
    return render_template(
        "flights/show.html", report=report, shapes=draw(report, features), size=SIZE
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    """File a new report; field errors are shown beside the inputs."""
    form = FlightReportForm()
    if form.validate_on_submit():
        api = services().api
        try:
            flight_id = user_call(lambda token: api.create_report(token, form.to_api()))
        except ValidationFailed as error:
            form.add_api_errors(error.fields)
        else:
            return redirect(url_for("flights.show", flight_id=flight_id), 303)
    status = 400 if form.errors else 200
    page = render_template("flights/new.html", form=form, timezones=COMMON_TIMEZONES)
    return Response(page, status, mimetype="text/html")


@bp.post("/<flight_id:flight_id>/complete")
def complete(flight_id: str) -> Response:
    """Complete (end) a report; completing it twice is not an error worth a page."""
    api = services().api
    with suppress(Conflict):
        user_call(lambda token: api.complete_report(token, flight_id))
    return redirect(url_for("flights.show", flight_id=flight_id), 303)

"""Typed client of the platform's flight reports, profile and map data APIs.

Calls go through the sign-in extension's API clients, which bring the token (the user's, kept
fresh, or the app's own) and raise its errors for token and availability failures; this module
turns the rest of each answer into domain objects or one of the errors below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from flask import Flask, current_app
from werkzeug.routing import BaseConverter

from flask_altitudeangel import AltitudeAngel, ApiClient, ApiError, ApiResponse
from portal.filed import FiledReports
from portal.map_reports import own_reports
from portal.models import BoundingBox, FlightReport, MapFeature, ReportPage, UserProfile

T = TypeVar("T")
# A flight id as the platform issues them (GUIDs; letters, digits, "-" and "_" at most). Any
# other id is refused before a request is built: "..", "%2F" and the like never reach the API.
FLIGHT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_SPAN = 1.9  # degrees: the platform's map data answers boxes of up to 2 degrees a side
MARGIN = 0.05  # degrees around a report, so its whole circle is in the box


class NotFound(Exception):
    """The thing asked for does not exist, or belongs to someone else."""


class Conflict(Exception):
    """The request conflicts with the thing's state (a report completed twice)."""


class ValidationFailed(Exception):
    """The API refused the input; ``fields`` maps each bad field to the reason."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid input")
        self.fields = fields


class FlightIdConverter(BaseConverter):
    """Match only well-formed flight ids in routes: any other id is a 404 before a view runs."""

    regex = FLIGHT_ID.pattern


@dataclass
class _Bound:
    """What the platform client keeps for one app."""

    filed: FiledReports
    lists_reports: bool | None = None  # whether GET /flightReport exists; None: not asked yet


class PlatformApi:
    """The flight reports, user profile and map data endpoints, at the current app's API URL.

    Where the platform offers no ``GET /flightReport`` (its public API has none), a user's
    reports come from what it does document: their own reports in the map data, and those filed
    through this app (``portal.filed``). Wherever the list exists, it is used. Created bare and
    bound to each app with ``init_app``, like the other extensions.
    """

    def __init__(self, aa: AltitudeAngel) -> None:
        self._aa = aa
        self._apps: WeakKeyDictionary[Flask, _Bound] = WeakKeyDictionary()

    def init_app(self, app: Flask, redis: Any) -> None:
        """Keep the app's reports filed here in ``redis``."""
        self._apps[app] = _Bound(FiledReports(redis))

    @property
    def _bound(self) -> _Bound:
        return self._apps[current_app._get_current_object()]  # type: ignore[attr-defined]

    @property
    def _base(self) -> str:
        return self._aa.config.api_url

    def list_reports(self, page: int = 1, per_page: int = 20) -> ReportPage:
        bound = self._bound
        if bound.lists_reports is False:
            return self._reports_without_a_list(page, per_page)
        url = f"{self._base}/flightReport?page={int(page)}&per_page={int(per_page)}"
        try:
            answer = self._aa.user_api.get(url, "list_reports")
        except ApiError as error:
            if error.status not in (404, 405):
                raise
            bound.lists_reports = False  # the platform's API has no such call
            return self._reports_without_a_list(page, per_page)
        bound.lists_reports = True
        return _decode(ReportPage.from_api, answer.json())

    def get_report(self, flight_id: str) -> FlightReport:
        url = self._report_url(flight_id)
        if not self._can_list():
            return self._report_without_a_list(flight_id)
        with _refusals():
            answer = self._aa.user_api.get(url, "get_report")
        return _decode(FlightReport.from_api, answer.json())

    def create_report(self, draft: dict[str, Any]) -> str:
        with _refusals():
            answer = self._aa.user_api.put(f"{self._base}/flightReport", draft, "create_report")
        flight_id = _decode(lambda b: str(b["flightId"]), answer.json())
        if FLIGHT_ID.fullmatch(flight_id):
            self._bound.filed.remember(self._user(), flight_id, draft)
        return flight_id

    def complete_report(self, flight_id: str) -> None:
        with _refusals():
            self._aa.user_api.delete(self._report_url(flight_id), "complete_report")
        self._bound.filed.completed(self._user(), flight_id)

    def user_profile(self) -> UserProfile:
        with _refusals():
            answer = self._aa.user_api.get(self._aa.config.userprofile_url, "user_profile")
        return _decode(UserProfile.from_api, answer.json())

    def map_features(self, box: BoundingBox, api: ApiClient | None = None) -> list[MapFeature]:
        """Read map data in ``box``, with the app's client token unless told otherwise."""
        query = urlencode({"n": box.north, "e": box.east, "s": box.south, "w": box.west})
        url = f"{self._base}/v2/mapdata/geojson?{query}"
        with _refusals():
            body = (api or self._aa.client_api).get(url, "map_data").json()
        return _decode(lambda b: [MapFeature.from_api(f) for f in b.get("features", [])], body)

    def _user(self) -> str:
        """Name the signed-in user for what is remembered of them across logins."""
        login = self._aa.current_login
        if login is not None and login.aa_id:
            return login.aa_id
        facts = self._aa.token_facts()
        subject = (facts.claims or {}).get("sub") if facts else None
        return str(subject or (login.login_id if login else "anonymous"))

    def _report_url(self, flight_id: str) -> str:
        if not FLIGHT_ID.fullmatch(flight_id):
            raise NotFound(flight_id)
        return f"{self._base}/flightReport/{flight_id}"

    def _can_list(self) -> bool:
        """Tell whether the platform lists a user's reports; learnt from its first answer."""
        if self._bound.lists_reports is None:
            self.list_reports(1, 1)
        return bool(self._bound.lists_reports)

    def _reports_without_a_list(self, page: int, per_page: int) -> ReportPage:
        reports = sorted(
            self._known_reports().values(),
            key=lambda r: r.start or datetime.min,
            reverse=True,
        )
        start = (page - 1) * per_page
        return ReportPage(reports[start : start + per_page], page, per_page, len(reports), "map")

    def _report_without_a_list(self, flight_id: str) -> FlightReport:
        found = self._known_reports().get(flight_id)
        if found is None:
            raise NotFound(flight_id)
        return found

    def _known_reports(self) -> dict[str, FlightReport]:
        """The user's reports: those on the map where this app looks, and those filed here."""
        filed = {r.flight_id: r for r in self._bound.filed.all(self._user())}
        points = [(r.lat, r.lng) for r in filed.values() if r.lat is not None and r.lng is not None]
        area = current_app.config["PORTAL_SETTINGS"].reports_area
        on_map: dict[str, FlightReport] = {}
        for box in boxes_around(points, area):
            for report in own_reports(self.map_features(box, self._aa.user_api)):
                on_map[report.flight_id] = report
        return {**filed, **{i: _merged(r, filed.get(i)) for i, r in on_map.items()}}


def boxes_around(points: list[tuple[float, float]], area: BoundingBox | None) -> list[BoundingBox]:
    """Return map boxes covering ``area`` and every point, each within the platform's limit."""
    boxes = [area] if area else []
    group: list[tuple[float, float]] = []
    for point in sorted(points):
        lats, lngs = [p[0] for p in [*group, point]], [p[1] for p in [*group, point]]
        if group and (max(lats) - min(lats) > MAX_SPAN or max(lngs) - min(lngs) > MAX_SPAN):
            boxes.append(_box(group))
            group = []
        group.append(point)
    if group:
        boxes.append(_box(group))
    return boxes


def _box(points: list[tuple[float, float]]) -> BoundingBox:
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    return BoundingBox(
        north=round(min(max(lats) + MARGIN, 90), 6),
        east=round(min(max(lngs) + MARGIN, 180), 6),
        south=round(max(min(lats) - MARGIN, -90), 6),
        west=round(max(min(lngs) - MARGIN, -180), 6),
    )


def _merged(on_map: FlightReport, filed: FlightReport | None) -> FlightReport:
    """A report on the map that was filed here: what was filed, and that it is current."""
    if filed is None:
        return on_map
    return replace(filed, reference=on_map.reference, status="current", source="filed here")


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn the API's refusals that mean something here into domain errors; raise the rest."""
    try:
        yield
    except ApiError as error:
        raise _domain_error(error) from None


def _domain_error(error: ApiError) -> Exception:
    body = _error_body(error.response)
    if error.status == 404:
        return NotFound("not found")
    if error.status == 409:
        return Conflict(str(body.get("error_description", "conflict")))
    if error.status == 400 and isinstance(body.get("fields"), dict):
        return ValidationFailed({str(k): str(v) for k, v in body["fields"].items()})
    return error


def _error_body(response: ApiResponse | None) -> dict[str, Any]:
    try:
        body = response.json() if response is not None else {}
    except ApiError:  # not JSON
        return {}
    return body if isinstance(body, dict) else {}


def _decode(parser: Callable[[Any], T], body: Any) -> T:
    """Parse a success body; a shape the app does not understand is the API's failure."""
    try:
        return parser(body)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ApiError("the API answered with an unexpected shape") from None

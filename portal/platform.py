"""Typed client of the platform's flight reports, profile and map data APIs.

Calls go through the sign-in extension's API clients, which bring the token (the user's, kept
fresh, or the app's own) and raise its errors for token and availability failures; this module
turns the rest of each answer into domain objects or one of the errors below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from werkzeug.routing import BaseConverter

from flask_altitudeangel import ApiClient, ApiError, ApiResponse
from portal.extensions import aa
from portal.models import FlightReport, MapFeature, ReportPage, UserProfile

T = TypeVar("T")
# A flight id as the platform issues them (GUIDs; letters, digits, "-" and "_" at most). Any
# other id is refused before a request is built: "..", "%2F" and the like never reach the API.
FLIGHT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


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


@dataclass(frozen=True)
class BoundingBox:
    north: float
    east: float
    south: float
    west: float


class PlatformApi:
    """The flight reports, user profile and map data endpoints, at the current app's API URL."""

    @property
    def _base(self) -> str:
        return aa.config.api_url

    def list_reports(self, page: int = 1, per_page: int = 20) -> ReportPage:
        url = f"{self._base}/flightReport?page={int(page)}&per_page={int(per_page)}"
        return _decode(ReportPage.from_api, _body(aa.user_api.get(url, "list_reports")))

    def get_report(self, flight_id: str) -> FlightReport:
        answer = aa.user_api.get(self._report_url(flight_id), "get_report")
        return _decode(FlightReport.from_api, _body(answer))

    def create_report(self, draft: dict[str, Any]) -> str:
        answer = aa.user_api.put(f"{self._base}/flightReport", draft, "create_report")
        return _decode(lambda b: str(b["flightId"]), _body(answer))

    def complete_report(self, flight_id: str) -> None:
        _body(aa.user_api.delete(self._report_url(flight_id), "complete_report"))

    def user_profile(self) -> UserProfile:
        answer = aa.user_api.get(aa.config.userprofile_url, "user_profile")
        return _decode(UserProfile.from_api, _body(answer))

    def map_features(self, box: BoundingBox, api: ApiClient | None = None) -> list[MapFeature]:
        """Read map data in ``box``, with the app's client token unless told otherwise."""
        query = urlencode({"n": box.north, "e": box.east, "s": box.south, "w": box.west})
        url = f"{self._base}/v2/mapdata/geojson?{query}"
        body = _body((api or aa.client_api).get(url, "map_data"))
        return _decode(lambda b: [MapFeature.from_api(f) for f in b.get("features", [])], body)

    def _report_url(self, flight_id: str) -> str:
        if not FLIGHT_ID.fullmatch(flight_id):
            raise NotFound(flight_id)
        return f"{self._base}/flightReport/{flight_id}"


platform = PlatformApi()


def _body(answer: ApiResponse) -> Any:
    """Return the JSON body of a success; raise the matching domain error otherwise."""
    body = answer.json()
    if answer.status == 404:
        raise NotFound("not found")
    if answer.status == 409:
        raise Conflict(str(body.get("error_description", "conflict")))
    if answer.status == 400 and isinstance(body.get("fields"), dict):
        raise ValidationFailed({str(k): str(v) for k, v in body["fields"].items()})
    if answer.status >= 400:
        raise ApiError(f"HTTP {answer.status}")
    return body


def _decode(parser: Callable[[Any], T], body: Any) -> T:
    """Parse a success body; a shape the app does not understand is the API's failure."""
    try:
        return parser(body)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ApiError("the API answered with an unexpected shape") from None

"""Typed client of the platform's APIs: returns domain objects and raises one error family.

It calls through one pooled urllib3 manager per process (thread-safe, keep-alive) rather than
through requests: this is the hot path of every signed-in page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import urllib3

from portal import metrics
from portal.models import FlightReport, MapFeature, ReportPage, UserProfile
from portal.settings import Settings

T = TypeVar("T")
# Told of every call: operation, "METHOD /path", HTTP status, seconds taken.
CallObserver = Callable[[str, str, str, float], None]
CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
# A flight id as the platform issues them (GUIDs; letters, digits, "-" and "_" at most). Any
# other id is refused before a request is built: "..", "%2F" and the like never reach the API.
FLIGHT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class ApiError(Exception):
    """A call to the platform's API did not succeed."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class InvalidToken(ApiError):
    """401 ``invalid_token``: the access token is expired, revoked or malformed."""


class Forbidden(ApiError):
    """403 without ``insufficient_scope``: the user may not do this, whatever the token."""


class InsufficientScope(ApiError):
    """The token lacks a scope the call needs (the platform's 401, or RFC 6750's 403)."""

    def __init__(self, scope: str, status: int) -> None:
        super().__init__(f"missing scope {scope!r}", status)
        self.scope = scope


class NotFound(ApiError):
    """The thing asked for does not exist, or belongs to someone else."""


class Conflict(ApiError):
    """The request conflicts with the thing's state (a report completed twice)."""


class ValidationFailed(ApiError):
    """The API refused the input; ``fields`` maps each bad field to the reason."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid input", 400)
        self.fields = fields


class ApiUnavailable(ApiError):
    """The API could not answer now (down, slow, 5xx, 429)."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message, 503)
        self.retry_after = retry_after


@dataclass(frozen=True)
class BoundingBox:
    north: float
    east: float
    south: float
    west: float


class PlatformApi:
    """The flight reports, user profile and map data endpoints."""

    def __init__(self, settings: Settings, on_call: CallObserver | None = None) -> None:
        self._on_call = on_call
        self._base = settings.aa_api_url
        self._profile_url = settings.aa_userprofile_url
        self._http = urllib3.PoolManager(
            num_pools=4,
            maxsize=16,
            retries=False,
            timeout=urllib3.Timeout(
                connect=settings.http_connect_timeout, read=settings.http_read_timeout
            ),
        )

    def list_reports(self, token: str, page: int = 1, per_page: int = 20) -> ReportPage:
        url = f"{self._base}/flightReport?page={int(page)}&per_page={int(per_page)}"
        body = self._call("list_reports", "GET", url, token)
        return _decode(ReportPage.from_api, body)

    def get_report(self, token: str, flight_id: str) -> FlightReport:
        url = self._report_url(flight_id)
        return _decode(FlightReport.from_api, self._call("get_report", "GET", url, token))

    def create_report(self, token: str, draft: dict[str, Any]) -> str:
        body = self._call("create_report", "PUT", f"{self._base}/flightReport", token, draft)
        return _decode(lambda b: str(b["flightId"]), body)

    def complete_report(self, token: str, flight_id: str) -> None:
        url = self._report_url(flight_id)
        self._call("complete_report", "DELETE", url, token)

    def user_profile(self, token: str) -> UserProfile:
        body = self._call("user_profile", "GET", self._profile_url, token)
        return _decode(UserProfile.from_api, body)

    def map_features(self, token: str, box: BoundingBox) -> list[MapFeature]:
        query = urlencode({"n": box.north, "e": box.east, "s": box.south, "w": box.west})
        body = self._call("map_data", "GET", f"{self._base}/v2/mapdata/geojson?{query}", token)
        return _decode(lambda b: [MapFeature.from_api(f) for f in b.get("features", [])], body)

    def _report_url(self, flight_id: str) -> str:
        if not FLIGHT_ID.fullmatch(flight_id):
            raise NotFound("no such flight id", 404)
        return f"{self._base}/flightReport/{flight_id}"

    def _call(self, operation: str, method: str, url: str, token: str, payload: Any = None) -> Any:
        """Send one request with the token in the Authorization header only."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        started = time.perf_counter()
        status = "error"
        try:
            response = self._http.request(method, url, body=body, headers=headers)
            status = str(response.status)
        except urllib3.exceptions.HTTPError as error:
            raise ApiUnavailable(type(error).__name__) from None
        finally:
            elapsed = time.perf_counter() - started
            _api_timer(operation, status).observe(elapsed)
            if self._on_call is not None:
                self._on_call(operation, f"{method} {urlsplit(url).path}", status, elapsed)
        return _parse(response)


def _parse(response: urllib3.BaseHTTPResponse) -> Any:
    """Return the JSON body of a success; raise the matching ApiError otherwise."""
    status = response.status
    if status in (401, 403):
        _raise_for_challenge(status, response.headers.get("WWW-Authenticate", ""))
    if status == 429 or status >= 500:
        raise ApiUnavailable(f"HTTP {status}", _retry_after(response))
    try:
        body = json.loads(response.data) if response.data else {}
    except ValueError:
        raise ApiUnavailable("the API answered with something that is not JSON") from None
    if status == 404:
        raise NotFound("not found", 404)
    if status == 409:
        raise Conflict(str(body.get("error_description", "conflict")), 409)
    if status == 400 and isinstance(body.get("fields"), dict):
        raise ValidationFailed({str(k): str(v) for k, v in body["fields"].items()})
    if status >= 400:
        raise ApiError(f"HTTP {status}", status)
    return body


def _raise_for_challenge(status: int, header: str) -> None:
    """Tell "refresh the token" from "ask for more consent" from "not allowed" (RFC 6750 §3.1).

    Only a 401 that says ``invalid_token``, or gives no error at all, calls for a refresh: a
    403 is an answer about permissions, and refreshing would spend the refresh token for
    nothing.
    """
    challenge = dict(CHALLENGE_PARAM.findall(header))
    error = challenge.get("error")
    if error == "insufficient_scope":
        raise InsufficientScope(challenge.get("scope", ""), status)
    if status == 403:
        raise Forbidden("forbidden", status)
    if error in (None, "invalid_token"):
        raise InvalidToken(challenge.get("error_description", "token rejected"), status)
    raise ApiError(f"HTTP 401 {error}", status)


@cache
def _api_timer(operation: str, status: str) -> Any:
    """Return the latency histogram's child for these labels, looked up once."""
    return metrics.API_SECONDS.labels(operation, status)


def _decode(parser: Callable[[Any], T], body: Any) -> T:
    """Parse a success body; a shape the app does not understand is the API's failure."""
    try:
        return parser(body)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ApiError("the API answered with an unexpected shape") from None


def _retry_after(response: urllib3.BaseHTTPResponse) -> int:
    try:
        return max(1, min(int(response.headers.get("Retry-After", "5")), 300))
    except ValueError:
        return 5

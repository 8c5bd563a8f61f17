"""Talk to the sandbox directly: a user token of the bench's own, the API's answer, a refresh."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from altitudeangel_sandbox.processes import DEMO_CLIENT_SECRET, ServiceProcess
from altitudeangel_sandbox.testing import USERS, SandboxUser
from bench.page import PER_PAGE, SESSION_COOKIE

# Registered for demo-portal by default; nothing listens there, the driver stops at it.
REDIRECT_URI = "http://localhost:5000/callback"
SCOPE = "query_userinfo manage_flightreports query_mapdata"
CLIENT = {"client_id": "demo-portal", "client_secret": DEMO_CLIENT_SECRET}


def user_token(sandbox: ServiceProcess, username: str = "alice") -> dict[str, Any]:
    """Sign ``username`` in at the sandbox as demo-portal and return the token response."""
    query = {
        "response_type": "code",
        "client_id": "demo-portal",
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": secrets.token_urlsafe(16),
    }
    person = SandboxUser(username, USERS[username])
    callback = person.authorize(
        f"{sandbox.url}/oauth/v2/authorize?{urlencode(query)}", REDIRECT_URI
    )
    code = parse_qs(urlsplit(callback).query)["code"][0]
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return _token_request(sandbox, grant)


def refresh(sandbox: ServiceProcess, refresh_token: str) -> tuple[float, dict[str, Any]]:
    """Refresh once; return the round trip in seconds and the new token response."""
    started = time.perf_counter()
    answer = _token_request(
        sandbox, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    return time.perf_counter() - started, answer


def _token_request(sandbox: ServiceProcess, form: dict[str, str]) -> dict[str, Any]:
    answer = requests.post(sandbox.url + "/oauth/v2/token", data={**form, **CLIENT}, timeout=10)
    answer.raise_for_status()
    return dict(answer.json())


def file_reports(sandbox: ServiceProcess, access_token: str, count: int) -> None:
    """File ``count`` reports for the token's user, so that the page has a full page of rows."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    for number in range(count):
        begins = start + timedelta(days=number + 1, hours=number % 7)
        report = {
            "name": f"Bench survey {number + 1} & check",  # one character the page escapes
            "description": "Filed by the benchmark.",
            "flight_type": ("com", "rec")[number % 2],
            "timezone": "Europe/London",
            "start": begins.isoformat(timespec="seconds"),
            "end": (begins + timedelta(hours=2)).isoformat(timespec="seconds"),
            "radius_meters": 200 + number,
            "loc": {"lat": 51.5 + number / 100, "lng": -0.1},
        }
        answer = requests.put(
            f"{sandbox.url}/flightReport",
            json=report,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        )
        answer.raise_for_status()


def report_page_body(sandbox: ServiceProcess, access_token: str) -> bytes:
    """Return the sandbox's own answer to the page's API call, to be served verbatim."""
    answer = requests.get(
        f"{sandbox.url}/flightReport",
        params={"page": 1, "per_page": PER_PAGE},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.content


def cookie_header(browser: requests.Session) -> str:
    """Return the Cookie header a signed-in browser sends."""
    return f"{SESSION_COOKIE}={browser.cookies[SESSION_COOKIE]}"

"""Fault injection: queued failures, each consumed by exactly one matching request."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.sandbox.conftest import Login
from tests.sandbox.flow import DEMO_CLIENT, DEMO_SECRET
from tests.sandbox.oauth import api, client_token, metric, refresh, revoke

pytestmark = pytest.mark.usefixtures("no_faults")


def inject(base_url: str, headers: dict[str, str], **fault: Any) -> None:
    response = requests.post(base_url + "/_sandbox/faults", headers=headers, json=fault, timeout=5)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("error500", 500, "server_error"),
        ("error503", 503, "temporarily_unavailable"),
        ("error429", 429, "too_many_requests"),
        ("invalid_grant", 400, "invalid_grant"),
    ],
)
def test_token_faults_answer_once_then_the_real_thing(
    base_url: str, admin_headers: dict[str, str], alice: Login, kind: str, status: int, error: str
) -> None:
    before = metric(
        base_url, "sandbox_token_requests_total", grant_type="refresh_token", outcome="fault"
    )
    inject(base_url, admin_headers, target="token", kind=kind)
    faulted = refresh(base_url, alice.refresh_token)
    assert faulted.status_code == status
    assert faulted.json()["error"] == error
    if kind == "error429":
        assert faulted.headers["Retry-After"] == "2"
    after = metric(
        base_url, "sandbox_token_requests_total", grant_type="refresh_token", outcome="fault"
    )
    assert after == before + 1
    # The faulted request processed nothing: the refresh token was not rotated.
    assert refresh(base_url, alice.refresh_token).status_code == 200


def test_hung_refresh_does_not_rotate(
    base_url: str, admin_headers: dict[str, str], alice: Login
) -> None:
    inject(base_url, admin_headers, target="token", kind="hang", seconds=1)
    started = time.monotonic()
    hung = refresh(base_url, alice.refresh_token)
    assert time.monotonic() - started >= 1
    assert hung.status_code == 503
    assert hung.json()["error"] == "temporarily_unavailable"
    assert refresh(base_url, alice.refresh_token).status_code == 200


def test_count_queues_several(base_url: str, admin_headers: dict[str, str], alice: Login) -> None:
    inject(base_url, admin_headers, target="userinfo", kind="error503", count=2)
    codes = [api(base_url, "GET", "/userProfile", alice.access_token).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


@pytest.mark.parametrize(
    ("kind", "status", "challenge"),
    [
        ("invalid_token", 401, 'Bearer error="invalid_token"'),
        (
            "insufficient_scope",
            401,
            'Bearer error="insufficient_scope", scope="manage_flightreports"',
        ),
        ("error500", 500, None),
    ],
)
def test_api_faults(
    base_url: str,
    admin_headers: dict[str, str],
    alice: Login,
    kind: str,
    status: int,
    challenge: str | None,
) -> None:
    before = metric(
        base_url, "sandbox_api_requests_total", route="/flightReport", status=str(status)
    )
    inject(base_url, admin_headers, target="api", kind=kind)
    faulted = api(base_url, "GET", "/flightReport", alice.access_token)
    assert faulted.status_code == status
    if challenge:
        assert faulted.headers["WWW-Authenticate"].startswith(challenge)
    after = metric(
        base_url, "sandbox_api_requests_total", route="/flightReport", status=str(status)
    )
    assert after == before + 1
    assert api(base_url, "GET", "/flightReport", alice.access_token).status_code == 200


def test_api_faults_do_not_hit_userinfo(
    base_url: str, admin_headers: dict[str, str], alice: Login
) -> None:
    inject(base_url, admin_headers, target="api", kind="error500")
    assert api(base_url, "GET", "/userProfile", alice.access_token).status_code == 200
    token = client_token(base_url, "query_mapdata")
    assert api(base_url, "GET", "/v2/mapdata/geojson?n=51&e=0&s=50&w=-1", token).status_code == 500


def test_revoke_fault_revokes_nothing(
    base_url: str, admin_headers: dict[str, str], alice: Login
) -> None:
    inject(base_url, admin_headers, target="revoke", kind="error503")
    assert revoke(base_url, alice.refresh_token).status_code == 503
    assert api(base_url, "GET", "/userProfile", alice.access_token).status_code == 200


def test_list_and_clear_faults(base_url: str, admin_headers: dict[str, str]) -> None:
    inject(base_url, admin_headers, target="revoke", kind="error500", count=3)
    listed = requests.get(base_url + "/_sandbox/faults", headers=admin_headers, timeout=5).json()
    assert [f["kind"] for f in listed["revoke"]] == ["error500"] * 3
    cleared = requests.delete(base_url + "/_sandbox/faults", headers=admin_headers, timeout=5)
    assert cleared.status_code == 200
    listed = requests.get(base_url + "/_sandbox/faults", headers=admin_headers, timeout=5).json()
    assert listed["revoke"] == []


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"target": "teapot", "kind": "error500"}, "target"),
        ({"target": "revoke", "kind": "invalid_grant"}, "kind"),
        ({"target": "token", "kind": "invalid_token"}, "kind"),
        ({"target": "token", "kind": "error500", "count": 0}, "count"),
        ({"target": "token", "kind": "error500", "count": "2"}, "count"),
        ({"target": "token", "kind": "hang", "seconds": -1}, "seconds"),
        ({"target": "token", "kind": "hang", "seconds": 301}, "seconds"),
        ({"target": "token", "kind": "drip", "interval": 0}, "interval"),
        ({"target": "token", "kind": "drip", "interval": 6}, "interval"),
        ({"target": "token", "kind": "drip", "interval": "1"}, "interval"),
    ],
)
def test_fault_requests_are_validated(
    base_url: str, admin_headers: dict[str, str], fault: dict[str, Any], field: str
) -> None:
    response = requests.post(base_url + "/_sandbox/faults", headers=admin_headers, json=fault)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    listed = requests.get(base_url + "/_sandbox/faults", headers=admin_headers, timeout=5).json()
    assert all(queue == [] for queue in listed.values())


def raw_post(base_url: str, path: str, form: dict[str, str], read_timeout: float) -> RawAnswer:
    """POST a form over a bare socket; every read must finish within ``read_timeout``."""
    parts = urlsplit(base_url)
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout) as sock:
        sock.sendall(head + body)
        received, first_byte = b"", None
        while chunk := sock.recv(65536):  # a socket.timeout here fails the test
            first_byte = first_byte or time.monotonic() - started
            received += chunk
    header_block, _, payload = received.partition(b"\r\n\r\n")
    lines = header_block.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    status = int(lines[0].split()[1])
    return RawAnswer(status, headers, payload, first_byte or 0.0, time.monotonic() - started)


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    first_byte: float
    total: float


def test_drip_refreshes_for_real_and_streams_the_answer_slowly(
    base_url: str, admin_headers: dict[str, str], alice: Login
) -> None:
    before = metric(
        base_url, "sandbox_token_requests_total", grant_type="refresh_token", outcome="success"
    )
    inject(base_url, admin_headers, target="token", kind="drip", seconds=2, interval=0.4)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": alice.refresh_token,
        "client_id": DEMO_CLIENT,
        "client_secret": DEMO_SECRET,
    }
    answer = raw_post(base_url, "/oauth/v2/token", form, read_timeout=1.0)
    assert answer.status == 200
    assert answer.first_byte < 1.0
    assert answer.total >= 2.0
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    assert answer.body.startswith(b" " * 5)
    token = json.loads(answer.body)  # leading whitespace is valid JSON
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"] != alice.refresh_token
    assert api(base_url, "GET", "/userProfile", token["access_token"]).status_code == 200
    assert refresh(base_url, alice.refresh_token).json()["error"] == "invalid_grant"
    after = metric(
        base_url, "sandbox_token_requests_total", grant_type="refresh_token", outcome="success"
    )
    assert after == before + 1


def test_drip_on_revoke_and_api_still_answers_for_real(
    base_url: str, admin_headers: dict[str, str], alice: Login
) -> None:
    inject(base_url, admin_headers, target="api", kind="drip", seconds=1, interval=0.25)
    started = time.monotonic()
    # A read timeout under the whole answer's time: each read is quick, the answer is not.
    slow = api(base_url, "GET", "/flightReport", alice.access_token, timeout=(3, 0.8))
    assert time.monotonic() - started >= 1.0
    assert slow.status_code == 200
    assert slow.json()["items"]
    inject(base_url, admin_headers, target="revoke", kind="drip", seconds=1, interval=0.5)
    started = time.monotonic()
    assert revoke(base_url, alice.access_token).status_code == 200
    assert time.monotonic() - started >= 1.0
    assert api(base_url, "GET", "/userProfile", alice.access_token).status_code == 401


def test_late_invalid_grant_refuses_after_a_delay_and_spends_nothing(
    base_url: str, admin_headers: dict[str, str], alice: Login
) -> None:
    inject(base_url, admin_headers, target="token", kind="late_invalid_grant", seconds=0.5)
    started = time.monotonic()
    late = refresh(base_url, alice.refresh_token)
    assert time.monotonic() - started >= 0.5
    assert late.status_code == 400
    assert late.json()["error"] == "invalid_grant"
    assert refresh(base_url, alice.refresh_token).status_code == 200


def test_forbidden_is_a_403_without_a_token_challenge(
    base_url: str, admin_headers: dict[str, str], alice: Login
) -> None:
    inject(base_url, admin_headers, target="api", kind="forbidden")
    refused = api(base_url, "GET", "/flightReport", alice.access_token)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert "WWW-Authenticate" not in refused.headers
    assert api(base_url, "GET", "/flightReport", alice.access_token).status_code == 200

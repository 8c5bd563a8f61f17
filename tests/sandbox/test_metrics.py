"""Prometheus counters: every token request counted once, API calls by route and status."""

from __future__ import annotations

import requests

from tests.sandbox.conftest import Login
from tests.sandbox.oauth import api, metric, refresh, revoke, token_request


def test_metrics_are_prometheus_text(base_url: str) -> None:
    response = requests.get(base_url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE sandbox_token_requests_total counter" in response.text


def test_token_requests_by_grant_and_outcome(base_url: str, alice: Login) -> None:
    def count(grant: str, outcome: str) -> float:
        return metric(base_url, "sandbox_token_requests_total", grant_type=grant, outcome=outcome)

    success, invalid = count("refresh_token", "success"), count("refresh_token", "invalid_grant")
    client_failures = count("client_credentials", "invalid_client")
    refresh(base_url, alice.refresh_token)
    refresh(base_url, "nope")
    token_request(base_url, {"grant_type": "client_credentials"}, secret="wrong")
    assert count("refresh_token", "success") == success + 1
    assert count("refresh_token", "invalid_grant") == invalid + 1
    assert count("client_credentials", "invalid_client") == client_failures + 1


def test_api_requests_by_route_and_status(base_url: str, alice: Login) -> None:
    def count(route: str, status: str) -> float:
        return metric(base_url, "sandbox_api_requests_total", route=route, status=status)

    found, missing = count("/flightReport", "200"), count("/flightReport/<flight_id>", "404")
    profile = count("/userProfile", "401")
    api(base_url, "GET", "/flightReport", alice.access_token)
    api(base_url, "GET", "/flightReport/nope", alice.access_token)
    api(base_url, "GET", "/userProfile", None)
    assert count("/flightReport", "200") == found + 1
    assert count("/flightReport/<flight_id>", "404") == missing + 1
    assert count("/userProfile", "401") == profile + 1


def test_revocations_by_outcome(base_url: str, alice: Login) -> None:
    def count(outcome: str) -> float:
        return metric(base_url, "sandbox_revocations_total", outcome=outcome)

    before = {name: count(name) for name in ("access_token", "refresh_token", "unknown")}
    revoke(base_url, alice.access_token)
    revoke(base_url, alice.refresh_token)
    revoke(base_url, "nothing")
    assert {name: count(name) for name in before} == {name: n + 1 for name, n in before.items()}

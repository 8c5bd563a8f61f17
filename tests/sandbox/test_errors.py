"""Malformed requests get the caller's error shape: JSON for APIs, a page for browsers."""

from __future__ import annotations

import requests

from tests.sandbox.conftest import Login
from tests.sandbox.oauth import api


def test_unknown_api_path_is_json_404(base_url: str) -> None:
    response = requests.get(base_url + "/v2/nothing-here", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert response.json()["error_description"]


def test_wrong_method_is_json_405(base_url: str, alice: Login) -> None:
    token = requests.get(base_url + "/oauth/v2/token", timeout=5)
    assert token.status_code == 405
    assert token.json()["error"] == "method_not_allowed"
    reports = api(base_url, "POST", "/flightReport", alice.access_token, json={})
    assert reports.status_code == 405
    assert reports.headers["Content-Type"] == "application/json"


def test_page_errors_are_html(base_url: str) -> None:
    response = requests.get(base_url + "/sandbox/nothing-here", timeout=5)
    assert response.status_code == 404
    assert "text/html" in response.headers["Content-Type"]
    assert "Altitude Angel sandbox" in response.text
    bare = requests.get(base_url + "/oauth/v2/authorize", timeout=5)
    assert bare.status_code == 400
    assert "text/html" in bare.headers["Content-Type"]


def test_oversized_body_is_413_json(base_url: str, alice: Login) -> None:
    body = {"name": "x" * 100_000}
    response = api(base_url, "PUT", "/flightReport", alice.access_token, json=body)
    assert response.status_code == 413
    assert response.json()["error"] == "request_entity_too_large"


def test_odd_bytes_in_a_token_form_are_an_oauth_error(base_url: str) -> None:
    response = requests.post(
        base_url + "/oauth/v2/token",
        data=b"grant_type=\xff\xfe&client_id=%ZZ",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json()

"""Response headers and secrets hygiene (security checklist, sections B.18 and E.30)."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from tests import peek
from tests.portal.conftest import DEMO_SECRET, SignIn

PAGES = ["/", "/flight-reports", "/profile", "/session", "/flight-reports/new", "/nowhere"]


def test_every_page_carries_the_security_headers(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(client)
    for path in PAGES:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp, path
        for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"):
            assert directive in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.mimetype == "text/html", path
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_is_sent_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://portal.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_json_clients_get_json_errors(client: FlaskClient) -> None:
    response = client.get("/flight-reports", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json == {"error": "sign_in_required"}


def test_an_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert b"Traceback" not in response.data
    assert b"<h1" in response.data


def test_no_secret_reaches_a_page_a_cookie_or_a_log(
    client: FlaskClient, sign_in: SignIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    portal_logger = logging.getLogger("portal")
    portal_logger.addHandler(caplog.handler)
    try:
        started = client.get("/login")
        callback = sign_in(client)
        token = peek.stored_token(client)
        bodies = [started, callback] + [client.get(p) for p in PAGES]
    finally:
        portal_logger.removeHandler(caplog.handler)
    secrets = [token.access_token, token.refresh_token, DEMO_SECRET]
    for response in bodies:
        text = response.get_data(as_text=True) + str(response.headers)
        for secret in secrets:
            assert secret not in text
        assert "code=" not in response.headers.get("Location", "")
    for secret in secrets:
        assert secret not in caplog.text
    assert "code_verifier" not in caplog.text

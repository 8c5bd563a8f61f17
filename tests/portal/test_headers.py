"""Response headers and secrets hygiene (security checklist, sections B.18 and E.30)."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from app import create_app
from portal.settings import SettingsError
from tests import peek
from tests.portal.conftest import DEMO_SECRET, SignIn, app_environment
from tests.services import RedisServer, ServiceProcess

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


def test_static_files_may_be_cached_and_a_view_keeps_the_headers_it_set(
    portal_app: Flask,
) -> None:
    @portal_app.get("/framed")
    def framed() -> Response:
        answer = Response("framed")
        answer.headers["x-frame-options"] = "SAMEORIGIN"
        answer.headers["X-Request-ID"] = "set-by-the-view"
        return answer

    client = portal_app.test_client()
    static = client.get("/static/style.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    static.close()
    answer = client.get("/framed", headers={"X-Request-ID": "framed-request-1"})
    assert answer.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert answer.headers.getlist("X-Request-ID") == ["framed-request-1"]  # the view's replaced
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_werkzeug_headers_still_keep_their_pairs_in_a_list() -> None:
    # Why SecurityHeaders.add appends to Headers._list: the pairs it adds are checked once,
    # when it is built, instead of by Headers.extend on every response.
    headers = Headers([("Content-Type", "text/html")])
    headers._list.extend([("X-Frame-Options", "DENY")])
    assert headers["x-frame-options"] == "DENY"
    assert headers.to_wsgi_list() == [("Content-Type", "text/html"), ("X-Frame-Options", "DENY")]


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


def seen_by_the_app(redis: RedisServer, sandbox: ServiceProcess, peer: str) -> str:
    """Return the client address and scheme a view sees, asked for through ``peer``."""
    app = create_app(
        app_environment(redis, sandbox, TRUST_PROXY="1", FORWARDED_ALLOW_IPS="10.0.0.10")
    )
    app.add_url_rule("/seen", view_func=lambda: f"{request.remote_addr} {request.scheme}")
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    response = app.test_client().get(
        "/seen", headers=forged, environ_overrides={"REMOTE_ADDR": peer}
    )
    return response.get_data(as_text=True)


def test_forwarded_headers_count_only_from_the_configured_proxy(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    assert seen_by_the_app(redis_server, sandbox, "10.0.0.10") == "203.0.113.9 https"
    # Anyone reaching gunicorn directly would otherwise choose the address the per-address
    # sign-in limit counts, and claim HTTPS.
    assert seen_by_the_app(redis_server, sandbox, "192.0.2.5") == "192.0.2.5 http"


def test_forwarded_allow_ips_takes_networks_and_refuses_nonsense(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    env = app_environment(redis_server, sandbox, TRUST_PROXY="1")
    app = create_app({**env, "FORWARDED_ALLOW_IPS": "127.0.0.1, 10.1.0.0/16"})
    app.add_url_rule("/seen", view_func=lambda: str(request.remote_addr))
    answer = app.test_client().get(
        "/seen",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_overrides={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert answer.get_data(as_text=True) == "203.0.113.9"
    with pytest.raises(SettingsError, match="FORWARDED_ALLOW_IPS"):
        create_app({**env, "FORWARDED_ALLOW_IPS": "the proxy"})

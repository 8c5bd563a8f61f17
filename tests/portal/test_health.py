"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.portal.conftest import SignIn, app_environment
from tests.services import METRICS_TOKEN, RedisServer, ServiceProcess

METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_redis_is_away(sandbox: ServiceProcess) -> None:
    away = RedisServer()  # a free port that nothing listens on
    try:
        app: Flask = create_app(app_environment(away, sandbox))
        assert app.test_client().get("/readyz").status_code == 503
    finally:
        away.cleanup()


def test_metrics_count_logins_and_api_calls(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(client)
    client.get("/flight-reports")
    text = client.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True)
    assert 'altitudeangel_sign_ins_total{outcome="success"}' in text
    assert 'altitudeangel_api_seconds_count{operation="list_reports",status="200"}' in text
    assert "altitudeangel_token_endpoint_seconds_bucket" in text
    assert "portal_redis_errors_total" in text


def test_metrics_need_the_bearer_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer " + "x" * 32}
    assert client.get("/metrics", headers=wrong).status_code == 401
    assert client.get("/metrics", headers=METRICS_AUTH).status_code == 200


def test_without_a_metrics_token_there_are_no_metrics_over_http(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    app = create_app(app_environment(redis_server, sandbox, METRICS_TOKEN=""))
    assert app.test_client().get("/metrics", headers=METRICS_AUTH).status_code == 404

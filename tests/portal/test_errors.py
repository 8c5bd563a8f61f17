"""An unexpected failure: a friendly 500 for the user, a traceback with the request id for the
operator, and never the request's parameters in the log."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from app import create_app
from tests.portal.conftest import app_environment
from tests.services import RedisServer, ServiceProcess


@pytest.fixture
def failing_app(redis_server: RedisServer, sandbox: ServiceProcess) -> Flask:
    app = create_app(app_environment(redis_server, sandbox))

    def broken() -> str:
        raise RuntimeError("the code behind this page is broken")

    app.add_url_rule("/broken", view_func=broken)
    return app


def test_an_unhandled_error_is_logged_with_its_traceback_and_request_id(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    portal_logger = logging.getLogger("portal")
    portal_logger.addHandler(caplog.handler)
    try:
        response = failing_app.test_client().get(
            "/broken?code=secret-code-123&state=secret-state",
            headers={"X-Request-ID": "req-0123456789"},
        )
    finally:
        portal_logger.removeHandler(caplog.handler)

    assert response.status_code == 500
    assert b"Something went wrong" in response.data and b"Traceback" not in response.data
    record = next(r for r in caplog.records if "unhandled_error" in r.getMessage())
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert getattr(record, "request_id", None) == "req-0123456789"
    logged = caplog.text
    assert "Traceback" in logged and "the code behind this page is broken" in logged
    assert "secret-code-123" not in logged and "secret-state" not in logged

"""An unexpected failure: a friendly 500 for the user, a traceback with the request id for the
operator, and never the request's parameters in the log."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from tests.portal.conftest import app_environment
from tests.services import RedisServer, ServiceProcess, free_port


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


@pytest.fixture
def storeless_client(redis_server: RedisServer, sandbox: ServiceProcess) -> FlaskClient:
    """A client with a session cookie, of an app whose Redis has gone away."""
    gone = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(app_environment(redis_server, sandbox, REDIS_URL=gone))
    client = app.test_client()
    client.set_cookie("portal_session", "a-session-id-the-store-cannot-look-up")
    return client


def try_again_link(response: TestResponse) -> str:
    assert response.status_code == 503
    notice = response.get_data(as_text=True).partition('<section class="card notice"')[2]
    link = re.search(r'<a class="button" href="([^"]*)">Try again</a>', notice)
    assert link is not None
    return link[1]


@pytest.mark.parametrize(
    "path", ["/%5Cevil.example/x", "/%2F%2Fevil.example/x", "/%09/evil.example", "/callback?code=x"]
)
def test_the_503_page_never_links_off_this_app(storeless_client: FlaskClient, path: str) -> None:
    # A link to /\evil.example/x is resolved by browsers as //evil.example/x: another site.
    assert try_again_link(storeless_client.get(path)) == "/"


def test_the_503_page_retries_one_of_this_apps_own_pages(storeless_client: FlaskClient) -> None:
    assert (
        try_again_link(storeless_client.get("/flight-reports?page=2")) == "/flight-reports?page=2"
    )


def test_the_503_page_of_a_sign_in_retries_the_sign_in(storeless_client: FlaskClient) -> None:
    response = storeless_client.get("/login?next=/flight-reports&add_scope=x%22y")
    assert try_again_link(response) == "/login?next=/flight-reports&amp;add_scope=x%22y"

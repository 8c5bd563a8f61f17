"""Readiness: the app starts while its authorization server is down, says why it is not ready,
and signs in once the server answers, without a restart (docs/deploy.md, "Readiness")."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests
from flask.testing import FlaskClient

from flask_altitudeangel._endpoints import LONGEST_WAIT, wait_after
from tests.oauth_driver import sign_in_over_http
from tests.portal.conftest import app_environment, portal_for
from tests.services import (
    RedisServer,
    ServiceProcess,
    app_process,
    register_redirect_uri,
    sandbox_process,
)

# The longest wait between two reads of the metadata, twice over, and the sandbox's start.
READY_WITHIN = 2 * LONGEST_WAIT + 30


@pytest.fixture
def down(redis_server: RedisServer) -> ServiceProcess:
    """A sandbox described but not started: nothing answers at its address yet."""
    return sandbox_process(redis_server.url)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port that would accept a connection, to tell whether anything tried one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def contacted(listener: socket.socket) -> bool:
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def when_ready(url: str) -> requests.Response:
    """Ask ``url``/readyz until it says ready, or READY_WITHIN seconds pass; return its answer."""
    deadline = time.monotonic() + READY_WITHIN
    while True:
        answer = requests.get(url + "/readyz", timeout=30)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_the_app_starts_while_the_server_is_down_and_says_why_it_is_not_ready(
    redis_server: RedisServer, down: ServiceProcess
) -> None:
    client = portal_for(app_environment(redis_server, down)).test_client()
    assert client.get("/healthz").status_code == 200  # alive: it asks nothing of anyone
    readiness = client.get("/readyz")
    assert readiness.status_code == 503
    assert readiness.json is not None and readiness.json["ready"] is False
    [problem] = readiness.json["problems"]
    assert problem.startswith("AA_AUTH_URL did not answer for its metadata")


def test_a_sign_in_while_the_server_is_unknown_is_the_friendly_503(
    redis_server: RedisServer, down: ServiceProcess
) -> None:
    client = portal_for(app_environment(redis_server, down)).test_client()
    page = client.get("/login")
    assert page.status_code == 503
    assert int(page.headers["Retry-After"]) >= 1
    assert "Altitude Angel is not answering" in page.text
    answer = client.get("/login", headers={"Accept": "application/json"})
    assert answer.status_code == 503 and answer.json == {
        "error": "upstream_unavailable",
        "retry_after": answer.headers["Retry-After"],
    }


def test_ready_once_redis_answers_and_the_endpoints_are_known(client: FlaskClient) -> None:
    readiness = client.get("/readyz")
    assert readiness.status_code == 200
    assert readiness.json == {"ready": True, "problems": []}


def test_endpoints_given_in_the_settings_need_no_metadata(
    redis_server: RedisServer, sandbox: ServiceProcess, listener: socket.socket
) -> None:
    silent = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = app_environment(
        redis_server,
        sandbox,
        AA_AUTH_URL=silent,
        AA_AUTHORIZE_URL=sandbox.url + "/oauth/v2/authorize",
        AA_TOKEN_URL=sandbox.url + "/oauth/v2/token",
    )
    client = portal_for(env).test_client()
    assert client.get("/readyz").status_code == 200
    started = client.get("/login")
    assert started.status_code == 302
    assert started.headers["Location"].startswith(sandbox.url + "/oauth/v2/authorize?")
    assert not contacted(listener)


def test_the_metadata_is_asked_again_after_1_s_then_twice_as_long_up_to_60_s() -> None:
    assert [wait_after(failures) for failures in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_gunicorn_starts_while_the_server_is_down_and_signs_in_once_it_is_up(
    redis_server: RedisServer, down: ServiceProcess
) -> None:
    # One worker: each reads the metadata for itself, and this one is the one asked.
    app = app_process(redis_server.url, down, workers=1, register=False).start()
    try:
        readiness = requests.get(app.url + "/readyz", timeout=30)
        assert readiness.status_code == 503, readiness.text
        assert "AA_AUTH_URL did not answer" in readiness.json()["problems"][0]
        assert requests.get(app.url + "/login", timeout=30).status_code == 503

        down.start()
        try:
            register_redirect_uri(down, app.env["AA_REDIRECT_URI"])
            readiness = when_ready(app.url)
            assert readiness.status_code == 200, readiness.text
            assert readiness.json() == {"ready": True, "problems": []}
            browser = sign_in_over_http(app.url)
            assert browser.get(app.url + "/profile", timeout=30).status_code == 200
        finally:
            down.stop()
    finally:
        app.stop()

"""Refresh and API failures (checklist C.24–C.26), Redis faults (D.27) and clock skew."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import peek
from tests.lifecycle.conftest import TOKEN_TTL
from tests.portal.conftest import sign_in_with, token_requests
from tests.services import RedisServer, ServiceProcess, inject_fault

AppFactory = Callable[..., Flask]


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    return client


def expire_soon() -> None:
    time.sleep(TOKEN_TTL / 2 + 0.5)


def stored_token(client: FlaskClient) -> object:
    return peek.stored_token(client)


@pytest.mark.parametrize("kind", ["error500", "error503", "error429"])
def test_a_failing_token_endpoint_keeps_the_user_signed_in(
    short_app: AppFactory, short_sandbox: ServiceProcess, kind: str
) -> None:
    client = signed_in(short_app())
    token = stored_token(client)
    expire_soon()
    inject_fault(short_sandbox, "token", kind)
    response = client.get("/flight-reports")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert b"not answering" in response.data
    assert stored_token(client) == token
    assert client.get("/flight-reports").status_code == 200


def test_a_hanging_token_endpoint_fails_within_the_timeout(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app(HTTP_READ_TIMEOUT="1"))
    expire_soon()
    inject_fault(short_sandbox, "token", "hang", seconds=10)
    started = time.monotonic()
    response = client.get("/flight-reports")
    assert response.status_code == 503
    assert time.monotonic() - started < 3
    assert stored_token(client) is not None


def test_invalid_grant_offers_to_sign_in_again_back_to_the_page(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app())
    expire_soon()
    inject_fault(short_sandbox, "token", "invalid_grant")
    response = client.get("/flight-reports?page=1")
    assert response.status_code == 401
    assert b'href="/login?next=/flight-reports?page%3D1"' in response.data
    assert stored_token(client) is None
    assert (
        sign_in_with(client, query={"next": "/flight-reports?page=1"}).headers["Location"]
        == "/flight-reports?page=1"
    )


def test_an_api_401_invalid_token_refreshes_once_and_retries(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app())
    before = token_requests(short_sandbox, "refresh_token")
    inject_fault(short_sandbox, "api", "invalid_token")
    assert client.get("/flight-reports").status_code == 200
    assert token_requests(short_sandbox, "refresh_token") == before + 1


def test_an_api_that_keeps_rejecting_the_token_is_tried_only_twice(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app())
    before = token_requests(short_sandbox, "refresh_token")
    inject_fault(short_sandbox, "api", "invalid_token", count=5)
    response = client.get("/flight-reports")
    assert response.status_code == 401
    assert token_requests(short_sandbox, "refresh_token") == before + 1


def test_an_api_401_insufficient_scope_offers_the_scope_without_refreshing(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app())
    before = token_requests(short_sandbox, "refresh_token")
    inject_fault(short_sandbox, "api", "insufficient_scope")
    response = client.get("/flight-reports")
    assert response.status_code == 403
    assert b"One more permission needed" in response.data
    assert token_requests(short_sandbox, "refresh_token") == before


def test_a_missing_scope_is_granted_incrementally(short_app: AppFactory) -> None:
    client = short_app().test_client()
    sign_in_with(client, query={"scope": "query_userinfo"})
    response = client.get("/flight-reports")
    assert response.status_code == 403
    assert b"add_scope=manage_flightreports" in response.data
    granted = sign_in_with(
        client, query={"add_scope": "manage_flightreports", "next": "/flight-reports"}
    )
    assert granted.headers["Location"] == "/flight-reports"
    assert client.get("/flight-reports").status_code == 200


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


def test_redis_down_is_a_fast_503_and_the_app_recovers(
    short_app: AppFactory, own_redis: RedisServer
) -> None:
    app = short_app(redis=own_redis)
    client = signed_in(app)
    own_redis.stop()
    started = time.monotonic()
    response = client.get("/flight-reports")
    assert response.status_code == 503
    assert time.monotonic() - started < 3
    assert b"Traceback" not in response.data
    assert b"session store" in response.data
    assert "Set-Cookie" not in response.headers  # no fallback to a cookie session
    own_redis.start()
    assert client.get("/").status_code == 200
    # Redis kept nothing on disk, so the sign-in is gone: back to sign-in, not an error.
    assert client.get("/flight-reports").status_code == 401


def test_redis_stalled_is_a_fast_503_and_sessions_survive(
    short_app: AppFactory, own_redis: RedisServer
) -> None:
    client = signed_in(short_app(redis=own_redis, REDIS_TIMEOUT="0.5"))
    stall = own_redis.client()
    import threading

    sleeper = threading.Thread(target=lambda: stall.execute_command("DEBUG", "SLEEP", "2"))
    sleeper.start()
    time.sleep(0.1)
    started = time.monotonic()
    response = client.get("/flight-reports")
    assert response.status_code == 503
    assert time.monotonic() - started < 1.5
    sleeper.join()
    assert client.get("/flight-reports").status_code == 200


def test_a_callback_after_a_redis_restart_says_sign_in_expired(
    short_app: AppFactory, own_redis: RedisServer, short_sandbox: ServiceProcess
) -> None:
    from tests.oauth_driver import SandboxUser
    from tests.portal.conftest import REDIRECT_URI

    client = short_app(redis=own_redis).test_client()
    started = client.get("/login")
    callback = SandboxUser("alice", "wonderland").authorize(
        started.headers["Location"], REDIRECT_URI
    )
    own_redis.restart()
    response = client.get(callback.removeprefix("http://localhost:5000"))
    assert response.status_code == 400
    assert b"Sign-in expired" in response.data


def test_an_app_clock_five_minutes_off_still_refreshes_on_time(
    short_app: AppFactory, short_sandbox: ServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app runs in this process, so shifting time.time() here skews the app's clock against
    # the sandbox's, which runs in its own process on the real clock.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 300)
    client = signed_in(short_app())
    before = token_requests(short_sandbox, "refresh_token")
    for _ in range(3):
        assert client.get("/flight-reports").status_code == 200
    assert token_requests(short_sandbox, "refresh_token") == before
    expire_soon()
    assert client.get("/flight-reports").status_code == 200
    assert token_requests(short_sandbox, "refresh_token") == before + 1


def test_the_client_token_is_fetched_once_for_every_instance(
    short_app: AppFactory, short_sandbox: ServiceProcess, own_redis: RedisServer
) -> None:
    first, second = short_app(redis=own_redis), short_app(redis=own_redis)
    clients = [signed_in(first), signed_in(second)]
    page = clients[0].get("/flight-reports").get_data(as_text=True)
    path = re.findall(r'href="(/flight-reports/(?!new)[^"?]+)"', page)[0]
    before = token_requests(short_sandbox, "client_credentials")
    for client in clients * 3:
        assert client.get(path).status_code == 200
    assert token_requests(short_sandbox, "client_credentials") == before + 1


def test_a_hanging_api_fails_within_the_timeout_with_a_page(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app(HTTP_READ_TIMEOUT="1"))
    inject_fault(short_sandbox, "api", "hang", seconds=10)
    started = time.monotonic()
    response = client.get("/flight-reports")
    assert response.status_code == 503
    assert b"not answering" in response.data
    assert time.monotonic() - started < 3
    assert stored_token(client) is not None


def test_a_403_is_shown_as_a_permissions_answer_and_keeps_the_tokens(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app())
    token = stored_token(client)
    before = token_requests(short_sandbox, "refresh_token")
    inject_fault(short_sandbox, "api", "forbidden")

    response = client.get("/flight-reports")

    assert response.status_code == 403
    assert b"Not allowed" in response.data and b"still signed in" in response.data
    assert token_requests(short_sandbox, "refresh_token") == before
    assert stored_token(client) == token
    assert client.get("/flight-reports").status_code == 200

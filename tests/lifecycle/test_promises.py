"""What the README promises, each tested so that breaking it on purpose turns a test red."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from flask_altitudeangel._tokens import token_from_response
from tests import peek
from tests.lifecycle.conftest import TOKEN_TTL
from tests.oauth_driver import SandboxUser, csrf_token
from tests.portal.conftest import DEMO_SECRET, REDIRECT_URI, sign_in_with, token_requests
from tests.services import RedisServer, ServiceProcess, app_process, inject_fault

AppFactory = Callable[..., Flask]
ACL_PASSWORD = "acl-test-password-0123456789"


def login_id(client: FlaskClient) -> str:
    return str(peek.login_id(client))


def consented_callback(start: requests.Response, username: str = "alice") -> str:
    return SandboxUser(username, "wonderland").authorize(start.headers["Location"], REDIRECT_URI)


@pytest.fixture(scope="module")
def app_server(
    redis_server: RedisServer, short_sandbox: ServiceProcess
) -> Iterator[ServiceProcess]:
    """The app under gunicorn with two workers, so racing requests may meet different ones."""
    service = app_process(redis_server.url, short_sandbox, workers=2).start()
    yield service
    service.stop()


def test_a_callback_raced_twice_on_one_cookie_makes_one_token_request(
    app_server: ServiceProcess, short_sandbox: ServiceProcess
) -> None:
    browser = requests.Session()
    start = browser.get(app_server.url + "/login", allow_redirects=False, timeout=10)
    callback = SandboxUser("alice", "wonderland").authorize(
        start.headers["Location"], app_server.url + "/callback"
    )
    cookies = browser.cookies.get_dict()
    before = token_requests(short_sandbox, "authorization_code")

    def land(_: int) -> int:
        answer = requests.get(callback, cookies=cookies, allow_redirects=False, timeout=10)
        return answer.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(land, range(8)))

    assert statuses == [303] + [400] * 7
    assert token_requests(short_sandbox, "authorization_code") == before + 1


def test_a_callback_replayed_with_the_cookies_of_before_is_refused(
    app_server: ServiceProcess, short_sandbox: ServiceProcess
) -> None:
    browser = requests.Session()
    start = browser.get(app_server.url + "/login", allow_redirects=False, timeout=10)
    callback = SandboxUser("alice", "wonderland").authorize(
        start.headers["Location"], app_server.url + "/callback"
    )
    copied = browser.cookies.get_dict()  # a copy of everything the browser held before
    assert browser.get(callback, allow_redirects=False, timeout=10).status_code == 303
    before = token_requests(short_sandbox, "authorization_code")

    replay = requests.get(callback, cookies=copied, allow_redirects=False, timeout=10)

    assert replay.status_code == 400
    assert token_requests(short_sandbox, "authorization_code") == before


def test_two_sign_ins_started_at_the_same_moment_both_complete(
    app_server: ServiceProcess,
) -> None:
    browser = requests.Session()
    barrier = threading.Barrier(2)

    def start(_: int) -> requests.Response:
        barrier.wait()
        return browser.get(app_server.url + "/login", allow_redirects=False, timeout=10)

    with ThreadPoolExecutor(2) as pool:
        starts = list(pool.map(start, range(2)))
    callbacks = [
        SandboxUser("alice", "wonderland").authorize(
            s.headers["Location"], app_server.url + "/callback"
        )
        for s in starts
    ]
    for callback in callbacks:
        assert browser.get(callback, allow_redirects=False, timeout=10).status_code == 303


def test_invalid_grant_after_a_lost_race_keeps_the_user_on_the_newer_token(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    app = short_app()
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    store = peek.token_store(app)
    stale = store.get(login_id(client))
    time.sleep(TOKEN_TTL / 2 + 0.6)  # the stored token is within its refresh margin
    inject_fault(short_sandbox, "token", "late_invalid_grant", seconds=1.5)
    statuses: list[int] = []
    page = threading.Thread(target=lambda: statuses.append(client.get("/profile").status_code))
    page.start()
    time.sleep(0.5)  # the page holds the lock and waits for the token endpoint's refusal...
    # ...while another request refreshes and saves a newer token (its lock lost, say).
    newer = requests.post(
        short_sandbox.url + "/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": stale.refresh_token,
            "client_id": "demo-portal",
            "client_secret": DEMO_SECRET,
        },
        timeout=5,
    ).json()
    saved = store.compare_and_set(
        login_id(client), stale.version, token_from_response(newer, stale.scope, stale)
    )
    page.join()

    assert saved is not None
    assert statuses == [200]
    assert store.get(login_id(client)).refresh_token == newer["refresh_token"]


@pytest.fixture
def acl_redis() -> Iterator[RedisServer]:
    """A Redis where the app signs in as its own user, whose key access a test can narrow."""
    server = RedisServer().start()
    server.client().execute_command(
        "ACL", "SETUSER", "portal", "on", f">{ACL_PASSWORD}", "~*", "&*", "+@all"
    )
    yield server
    server.cleanup()


def allow_only(redis: RedisServer, *patterns: str) -> None:
    redis.client().execute_command(
        "ACL", "SETUSER", "portal", "resetkeys", *(f"~{p}" for p in patterns)
    )


def acl_app(short_app: AppFactory, redis: RedisServer) -> Flask:
    url = f"redis://portal:{ACL_PASSWORD}@127.0.0.1:{redis.port}/0"
    return short_app(redis=redis, REDIS_URL=url)


def assert_friendly_503(response: object) -> None:
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response.headers["Retry-After"] == "5"  # type: ignore[attr-defined]
    assert b"Temporarily unavailable" in response.data  # type: ignore[attr-defined]


def test_redis_refusing_the_token_read_is_a_friendly_503(
    short_app: AppFactory, acl_redis: RedisServer
) -> None:
    client = acl_app(short_app, acl_redis).test_client()
    assert sign_in_with(client).status_code == 303
    allow_only(acl_redis, "portal:session:*", "portal:ratelimit*")
    assert_friendly_503(client.get("/flight-reports"))


def test_redis_refusing_the_state_claim_is_a_friendly_503(
    short_app: AppFactory, acl_redis: RedisServer
) -> None:
    client = acl_app(short_app, acl_redis).test_client()
    start = client.get("/login")
    callback = urlsplit(consented_callback(start))
    allow_only(acl_redis, "portal:session:*", "portal:ratelimit*")
    assert_friendly_503(client.get(f"{callback.path}?{callback.query}"))


def test_redis_refusing_the_refresh_lock_is_a_friendly_503(
    short_app: AppFactory, acl_redis: RedisServer
) -> None:
    client = acl_app(short_app, acl_redis).test_client()
    assert sign_in_with(client).status_code == 303
    allow_only(
        acl_redis,
        "portal:session:*",
        "portal:ratelimit*",
        "portal:login:*:tokens",
        "portal:logins-by-idle-deadline",
    )
    time.sleep(TOKEN_TTL / 2 + 0.6)  # the next page needs a refresh, and so the lock
    assert_friendly_503(client.get("/flight-reports"))


def test_tokens_are_encrypted_at_rest(short_app: AppFactory, redis_server: RedisServer) -> None:
    app = short_app()
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    token = peek.stored_token(client)
    raw = redis_server.client().hget(f"portal:login:{{{login_id(client)}}}:tokens", "blob")
    assert raw
    for secret in (token.access_token, token.refresh_token):
        assert secret.encode() not in raw
        assert secret.encode()[:24] not in raw


def test_sign_out_deletes_the_stored_tokens(
    short_app: AppFactory, redis_server: RedisServer
) -> None:
    client = short_app().test_client()
    assert sign_in_with(client).status_code == 303
    key = f"portal:login:{{{login_id(client)}}}:tokens"
    trace = key.replace(":tokens", ":trace")  # the flow trace, told by the signed_out signal
    page = client.get("/flight-reports").get_data(as_text=True)
    assert redis_server.client().exists(key, trace) == 2
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 303
    assert redis_server.client().exists(key, trace) == 0


def test_the_token_store_refuses_a_stale_version(short_app: AppFactory) -> None:
    app = short_app()
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    store = peek.token_store(app)
    current = store.get(login_id(client))
    assert store.compare_and_set(login_id(client), current.version, current) is not None
    assert store.compare_and_set(login_id(client), current.version, current) is None
    assert store.get(login_id(client)).version == current.version + 1

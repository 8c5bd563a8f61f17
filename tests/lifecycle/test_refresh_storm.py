"""Single-flight refresh of DPoP-bound tokens across 2 app instances × 3 gunicorn workers
(checklist C.21–C.23)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import pytest
import requests
from flask import Flask
from joserfc.jwk import ECKey

from app import SESSION_COOKIE
from flask_altitudeangel._tokens.store import UserToken
from flask_altitudeangel.records import peek_claims
from tests import peek
from tests.lifecycle.conftest import TOKEN_TTL
from tests.oauth_driver import csrf_token, sign_in_over_http
from tests.portal.conftest import sandbox_counter, token_requests
from tests.services import (
    RedisServer,
    ServiceProcess,
    app_process,
    inject_fault,
    worker_pids,
)

pytestmark = pytest.mark.cluster


# With this margin a refreshed 4-second token stays fresh for at least 4 - 1 (expiry is kept to
# the second) - 1.2 (the margin with its jitter) = 1.8 s before it falls due again. A storm on a
# busy machine may outlast that, so the tests count the times the token could fall due during
# the storm rather than assume it is over sooner.
REFRESH_MARGIN = 1
FRESH_FOR = TOKEN_TTL - 1 - REFRESH_MARGIN * 1.2
SETTINGS = {
    "AA_DPOP": "1",  # the storms are of DPoP-bound tokens, whatever the metadata offers
    "REFRESH_MARGIN": str(REFRESH_MARGIN),
    # Short timeouts keep the killed-worker test quick; the lock TTL follows them.
    "HTTP_CONNECT_TIMEOUT": "1",
    "HTTP_READ_TIMEOUT": "3",
    "REFRESH_WAIT": "2",
}


@pytest.fixture(scope="module")
def instances(
    redis_server: RedisServer, short_sandbox: ServiceProcess
) -> Iterator[list[ServiceProcess]]:
    """Two app instances sharing one Redis and one callback URL, as behind a load balancer."""
    first = app_process(redis_server.url, short_sandbox, workers=3, **SETTINGS)
    second = app_process(
        redis_server.url,
        short_sandbox,
        workers=3,
        redirect_uri=first.env["AA_REDIRECT_URI"],
        **SETTINGS,
    )
    started = [first.start(), second.start()]
    yield started
    for instance in started:
        instance.stop()


def wait_until_expired() -> None:
    """Wait until the token of a sign-in that just ended is within the refresh margin."""
    time.sleep(TOKEN_TTL - REFRESH_MARGIN + 0.25)


def stored_token(short_app: Callable[..., Flask], browser: requests.Session) -> UserToken:
    """Read the tokens of the browser's login from the store every instance shares."""
    looking = short_app().test_client()  # the same Redis and keys as the instances
    looking.set_cookie(SESSION_COOKIE, browser.cookies[SESSION_COOKIE])
    token = peek.stored_token(looking)
    assert token is not None
    return token


class Refreshes:
    """Count the refreshes the sandbox answers from now on, and those it refused."""

    def __init__(self, sandbox: ServiceProcess) -> None:
        self._sandbox = sandbox
        self._total, self._succeeded = self._counts()

    def _counts(self) -> tuple[float, float]:
        succeeded = sandbox_counter(
            self._sandbox,
            "sandbox_token_requests_total",
            grant_type="refresh_token",
            outcome="success",
        )
        return token_requests(self._sandbox, "refresh_token"), succeeded

    def since(self) -> tuple[int, int]:
        """Return the refreshes since, and how many of them the sandbox refused."""
        total, succeeded = self._counts()
        done = int(total - self._total)
        return done, done - int(succeeded - self._succeeded)


def timed_storm(
    browser: requests.Session, instances: list[ServiceProcess], count: int
) -> tuple[list[int], int]:
    """Run a storm; return its statuses and how many times the token could fall due in it."""
    started = time.monotonic()
    statuses = storm(browser, instances, count)
    return statuses, 1 + int((time.monotonic() - started) / FRESH_FOR)


def assert_single_flight(refreshes: Refreshes, fell_due: int, versions: int) -> None:
    """One refresh per time the token fell due, each stored once, no refresh token spent twice."""
    done, refused = refreshes.since()
    assert refused == 0  # a refresh token spent twice trips the sandbox's reuse detection
    assert 1 <= done <= fell_due
    assert versions == done  # every refresh the sandbox answered is the one stored, in turn


def storm(browser: requests.Session, instances: list[ServiceProcess], count: int) -> list[int]:
    cookies = browser.cookies.get_dict()

    def one(i: int) -> int:
        url = instances[i % len(instances)].url + "/flight-reports"
        return requests.get(url, cookies=cookies, allow_redirects=False, timeout=20).status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_two_hundred_requests_with_an_expired_dpop_token_refresh_exactly_once(
    instances: list[ServiceProcess],
    short_sandbox: ServiceProcess,
    short_app: Callable[..., Flask],
) -> None:
    browser = sign_in_over_http(instances[0].url)
    signed_in = stored_token(short_app, browser)
    assert signed_in.token_type == "DPoP" and signed_in.dpop_jwk
    wait_until_expired()
    refreshes = Refreshes(short_sandbox)
    statuses, fell_due = timed_storm(browser, instances, 200)
    assert statuses == [200] * 200
    refreshed = stored_token(short_app, browser)
    assert_single_flight(refreshes, fell_due, refreshed.version - signed_in.version)
    assert refreshed.token_type == "DPoP" and refreshed.dpop_jwk == signed_in.dpop_jwk
    # The sandbox binds a new token to the key of the proof its request carried, if any.
    claims = peek_claims(refreshed.access_token) or {}
    assert claims["cnf"]["jkt"] == ECKey.import_key(refreshed.dpop_jwk).thumbprint()
    # The stored refresh token is the newest: the next refresh succeeds, where a stale one
    # would trip the sandbox's reuse detection and revoke the whole login.
    wait_until_expired()
    refreshes = Refreshes(short_sandbox)
    statuses, fell_due = timed_storm(browser, instances, 4)
    assert statuses == [200] * 4
    newest = stored_token(short_app, browser)
    assert_single_flight(refreshes, fell_due, newest.version - refreshed.version)


def test_the_rotated_token_survives_concurrent_session_writes(
    instances: list[ServiceProcess],
    short_sandbox: ServiceProcess,
    short_app: Callable[..., Flask],
) -> None:
    browser = sign_in_over_http(instances[0].url)
    signed_in = stored_token(short_app, browser)
    wait_until_expired()
    refreshes = Refreshes(short_sandbox)
    stop = threading.Event()

    def rewrite_session() -> None:
        cookies = browser.cookies.get_dict()
        while not stop.is_set():
            # /login rewrites the session blob wholesale (it adds a login transaction).
            requests.get(
                instances[1].url + "/login", cookies=cookies, allow_redirects=False, timeout=10
            )

    writers = [threading.Thread(target=rewrite_session) for _ in range(4)]
    for writer in writers:
        writer.start()
    try:
        statuses, fell_due = timed_storm(browser, instances, 50)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert statuses == [200] * 50
    rotated = stored_token(short_app, browser)
    assert_single_flight(refreshes, fell_due, rotated.version - signed_in.version)
    wait_until_expired()
    assert storm(browser, instances, 4) == [200] * 4


def test_a_killed_lock_holder_costs_a_bounded_503_then_recovers(
    instances: list[ServiceProcess], short_sandbox: ServiceProcess
) -> None:
    browser = sign_in_over_http(instances[0].url)
    wait_until_expired()
    inject_fault(short_sandbox, "token", "hang", count=1, seconds=20)
    cookies = browser.cookies.get_dict()
    holder = threading.Thread(
        target=lambda: _ignore_errors(instances[0].url + "/flight-reports", cookies)
    )
    holder.start()
    time.sleep(0.7)  # the holder is now inside the hung token request, lock held
    for pid in worker_pids(instances[0]):
        os.kill(pid, signal.SIGKILL)
    holder.join()

    started = time.monotonic()
    waiting = requests.get(instances[1].url + "/flight-reports", cookies=cookies, timeout=20)
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"]
    assert time.monotonic() - started < 5

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        retry = requests.get(instances[1].url + "/flight-reports", cookies=cookies, timeout=20)
        if retry.status_code == 200:
            break
        assert retry.status_code == 503
        time.sleep(0.5)
    assert retry.status_code == 200


def test_sign_out_through_one_instance_ends_the_session_on_both(
    instances: list[ServiceProcess],
) -> None:
    browser = sign_in_over_http(instances[0].url)
    page = browser.get(instances[1].url + "/flight-reports", timeout=10)
    assert page.status_code == 200
    out = browser.post(
        instances[1].url + "/logout",
        data={"csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 303
    for instance in instances:
        after = browser.get(instance.url + "/profile", allow_redirects=False, timeout=10)
        assert after.status_code == 401


def _ignore_errors(url: str, cookies: dict[str, str]) -> None:
    with suppress(requests.RequestException):  # the worker serving it is killed on purpose
        requests.get(url, cookies=cookies, timeout=30)

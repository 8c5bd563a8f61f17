"""Nothing lost when Redis fails over: users keep their sign-in while the primary is killed
again and again in the middle of their refreshes.

A primary, a replica and three Sentinels, replication held back by a proxy (so a write the
primary acknowledged reaches the replica a moment later, and a kill loses it), two app
instances × three workers, the sandbox rotating refresh tokens with reuse detection. Many
users browse while their tokens fall due every few seconds; during their refreshes the primary
is SIGKILLed and the replica promoted, several times. A rotated refresh token lost that way is
presented again at the next refresh, and the sandbox revokes the whole grant: the user is
signed out. The test judges what users and the sandbox saw, never how fast.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.cluster.redis_sentinel import LocalSentinels
from tests.lifecycle.conftest import TOKEN_TTL
from tests.oauth_driver import sign_in_over_http
from tests.portal.conftest import sandbox_counter, token_requests
from tests.services import ServiceProcess, app_process

pytestmark = pytest.mark.cluster

PAGE = "/flight-reports"
USERS = 24
KILLS = 3
REPLICATION_DELAY = 0.3  # seconds: every write reaches the replica this late
PAUSE = 0.4  # seconds between two pages of one user: a due token is refreshed soon after
SETTINGS = {
    "AA_DPOP": "0",  # bearer tokens: the grant's rotation is what is under test
    "FLOW_TRACE": "0",
    "REFRESH_MARGIN": "1",  # a 4-second token falls due every 2 to 3 seconds
    "HTTP_CONNECT_TIMEOUT": "2",
    "HTTP_READ_TIMEOUT": "8",  # a loaded machine; a refresh lock then lives 12 s
    "REFRESH_WAIT": "3",
}


@pytest.fixture(scope="module")
def failing_redis() -> Iterator[LocalSentinels]:
    sentinels = LocalSentinels(delay=REPLICATION_DELAY)
    try:
        yield sentinels.start()
    finally:
        sentinels.cleanup()


@pytest.fixture(scope="module")
def instances(
    failing_redis: LocalSentinels, short_sandbox: ServiceProcess
) -> Iterator[list[ServiceProcess]]:
    """Two app instances × three workers on the Sentinels' primary, behind one callback URL."""
    first = app_process(failing_redis.url, short_sandbox, workers=3, **SETTINGS)
    redirect_uri = first.env["AA_REDIRECT_URI"]
    second = app_process(
        failing_redis.url, short_sandbox, workers=3, redirect_uri=redirect_uri, **SETTINGS
    )
    started = [first.start(), second.start()]
    yield started
    for instance in started:
        instance.stop()


@dataclass
class User:
    """One signed-in browser, and every answer its pages had."""

    name: str
    browser: requests.Session
    answers: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def page(self, instance: ServiceProcess) -> requests.Response | None:
        try:
            answer = self.browser.get(instance.url + PAGE, allow_redirects=False, timeout=20)
        except requests.RequestException as error:
            self.failures.append(f"{type(error).__name__} from {instance.url}")
            return None
        self.answers.append(answer.status_code)
        if answer.status_code not in (200, 503):
            self.failures.append(f"{answer.status_code} from {instance.url}: {answer.text[:200]}")
        elif answer.status_code == 503 and not answer.headers.get("Retry-After"):
            self.failures.append(f"a 503 without Retry-After from {instance.url}")
        return answer

    def browse(self, instances: list[ServiceProcess], stop: threading.Event) -> None:
        turn = 0
        while not stop.is_set():
            self.page(instances[turn % len(instances)])
            turn += 1
            stop.wait(PAUSE)

    def reports(self, instances: list[ServiceProcess]) -> set[str] | None:
        """Return the ids of the user's reports once the page answers (a 503 is asked again),
        or None if it answers anything else."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            answer = self.page(instances[0])
            if answer is not None and answer.status_code == 200:
                return set(re.findall(r'href="/flight-reports/([^"/?]+)"', answer.text))
            if answer is not None and answer.status_code != 503:
                return None
            time.sleep(0.5)
        return None


def sign_in_everyone(instances: list[ServiceProcess]) -> list[User]:
    def one(n: int) -> User:
        name = ("alice", "bob")[n % 2]
        # Through the instance whose URL is the callback; the session serves both.
        return User(f"{name}#{n}", sign_in_over_http(instances[0].url, name))

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(USERS)))


def everyones_reports(users: list[User], instances: list[ServiceProcess]) -> dict[str, Any]:
    with ThreadPoolExecutor(len(users)) as pool:
        found = pool.map(lambda user: user.reports(instances), users)
        return {user.name: reports for user, reports in zip(users, found, strict=True)}


def kill_during_a_refresh(redis: LocalSentinels) -> None:
    """SIGKILL the primary while a refresh holds its lock (or after a while, if none is seen),
    wait for the replica's promotion, and bring the killed node back as the new replica."""
    primary = redis.primary()
    watcher = redis.node(primary)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not watcher.keys("portal:login:*:lock"):
        time.sleep(0.01)
    killed = redis.kill_primary()
    redis.wait_for_promotion(killed)
    redis.rejoin(killed)


def test_users_stay_signed_in_while_the_primary_is_killed_during_their_refreshes(
    failing_redis: LocalSentinels,
    instances: list[ServiceProcess],
    short_sandbox: ServiceProcess,
) -> None:
    users = sign_in_everyone(instances)
    before = everyones_reports(users, instances)
    failing_redis.wait_in_sync()
    refused = sandbox_counter(
        short_sandbox, "sandbox_token_requests_total", grant_type="refresh_token",
        outcome="invalid_grant",
    )  # fmt: skip
    refreshes = token_requests(short_sandbox, "refresh_token")

    stop = threading.Event()
    browsing = [threading.Thread(target=u.browse, args=(instances, stop)) for u in users]
    for thread in browsing:
        thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(1)  # tokens fall due and refreshes start on the new primary
            kill_during_a_refresh(failing_redis)
        # Every token falls due at least once more: one lost in a failover is presented again.
        time.sleep(TOKEN_TTL + 1)
    finally:
        stop.set()
        for thread in browsing:
            thread.join()

    after = everyones_reports(users, instances)
    spent_twice = sandbox_counter(
        short_sandbox, "sandbox_token_requests_total", grant_type="refresh_token",
        outcome="invalid_grant",
    ) - refused  # fmt: skip
    signed_out = sorted(name for name, seen in after.items() if seen is None)
    # No refresh token was presented twice: the sandbox refused none, and revoked no grant.
    assert (spent_twice, signed_out) == (0, []), (
        f"{spent_twice:g} refreshes refused, {len(signed_out)} of {USERS} users signed out"
    )
    assert [f for user in users for f in user.failures] == []  # no 500, no sign-out
    assert after == before  # every user still signed in, with their own reports
    assert all(before.values())
    assert token_requests(short_sandbox, "refresh_token") - refreshes >= USERS  # they rotated

"""A token endpoint that drips its answer for longer than the refresh lock lives (hardening)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.lifecycle.conftest import TOKEN_TTL
from tests.oauth_driver import sign_in_over_http
from tests.portal.conftest import sandbox_counter
from tests.services import RedisServer, ServiceProcess, app_process, inject_fault

pytestmark = pytest.mark.cluster
# The refresh lock lives connect + read timeout + 2 s = 5 s; the answer takes 8 s to arrive,
# each byte well within the read timeout.
TIMEOUTS = {"HTTP_CONNECT_TIMEOUT": "1", "HTTP_READ_TIMEOUT": "2", "REFRESH_WAIT": "10"}
DRIP_SECONDS = 8
SANDBOX_TOKENS = "sandbox_token_requests_total"


@pytest.fixture(scope="module")
def app(redis_server: RedisServer, short_sandbox: ServiceProcess) -> Iterator[ServiceProcess]:
    service = app_process(redis_server.url, short_sandbox, workers=2, **TIMEOUTS).start()
    yield service
    service.stop()


def test_a_refresh_slower_than_its_lock_spends_the_refresh_token_once(
    app: ServiceProcess, short_sandbox: ServiceProcess
) -> None:
    browser = sign_in_over_http(app.url)
    cookies = browser.cookies.get_dict()
    time.sleep(TOKEN_TTL / 2 + 0.6)  # within the refresh margin
    spent_twice = sandbox_counter(short_sandbox, SANDBOX_TOKENS, outcome="invalid_grant")
    inject_fault(short_sandbox, "token", "drip", seconds=DRIP_SECONDS, interval=0.5)
    statuses: list[int] = []

    def page() -> None:
        url = app.url + "/flight-reports"
        statuses.append(requests.get(url, cookies=cookies, timeout=30).status_code)

    first = threading.Thread(target=page)
    first.start()
    time.sleep(6)  # past the lock's own lifetime, while the answer still trickles in
    second = threading.Thread(target=page)
    second.start()
    first.join()
    second.join()

    assert statuses == [200, 200]
    # Had the lock expired mid-answer, the second request would have spent the same refresh
    # token again, and the sandbox would have refused it as reused (and revoked the grant).
    assert sandbox_counter(short_sandbox, SANDBOX_TOKENS, outcome="invalid_grant") == spent_twice
    assert requests.get(app.url + "/flight-reports", cookies=cookies, timeout=10).status_code == 200

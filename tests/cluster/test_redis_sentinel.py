"""The app on a primary and a replica run by three Sentinels: every piece of its state goes to
the primary the Sentinels name, a failover is a 503 and then normal service, without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask

from app import create_app
from flask_altitudeangel import AltitudeAngel, ConfigError
from flask_altitudeangel._redis import SentinelUrl, parse_sentinel_url
from portal.settings import SettingsError
from tests import peek
from tests.cluster.redis_sentinel import SERVICE, LocalSentinels
from tests.cluster.test_redis_cluster import REDIRECT_URI, sign_in
from tests.oauth_driver import sign_in_over_http
from tests.services import DEMO_CLIENT_SECRET, ServiceProcess, app_process

pytestmark = pytest.mark.cluster

PAGE = "/flight-reports"


def sentinel_app(url: str, sandbox: ServiceProcess) -> Flask:
    app = create_app(
        {
            "AA_AUTH_URL": sandbox.url,
            "AA_CLIENT_ID": "demo-portal",
            "AA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
            "AA_REDIRECT_URI": REDIRECT_URI,
            "AA_REQUIRE_ISS": "1",
            "AA_PAR": "0",
            "REDIS_URL": url,
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "SECRET_KEY": "sentinel-test-secret-key-" + "s" * 32,
        }
    )
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app_on_sentinels(redis_sentinels: LocalSentinels, sandbox: ServiceProcess) -> Iterator[Flask]:
    app = sentinel_app(redis_sentinels.url, sandbox)
    yield app
    peek.portal_redis(app).close()


def test_a_sentinel_url_names_the_sentinels_the_service_the_database_and_both_passwords() -> None:
    url = parse_sentinel_url(
        "redis+sentinel://app:data%2Fpass@10.0.0.1:26380,sentinel-b,[::1]:26381/portal/3"
        "?sentinel_password=s%26p&socket_keepalive=yes"
    )

    assert url == SentinelUrl(
        sentinels=[("10.0.0.1", 26380), ("sentinel-b", 26379), ("::1", 26381)],
        service="portal",
        db=3,
        node_options={"username": "app", "password": "data/pass", "socket_keepalive": True},
        sentinel_options={"password": "s&p"},
    )
    tls = parse_sentinel_url("rediss+sentinel://s1/portal?ssl_ca_certs=/etc/ca.pem")
    assert (tls.db, tls.tls) == (0, True)
    # With TLS, the Sentinels are spoken to over TLS too, trusting the same authority.
    assert tls.sentinel_options == {"ssl": True, "ssl_ca_certs": "/etc/ca.pem"}
    assert tls.node_options == {"ssl": True, "ssl_ca_certs": "/etc/ca.pem"}


@pytest.mark.parametrize(
    "url",
    ["redis+sentinel://s1:26379", "redis+sentinel://s1/portal/zero", "redis+sentinel://s1:x/p"],
)
def test_a_malformed_sentinel_url_stops_the_app_naming_its_setting(
    url: str, sandbox: ServiceProcess
) -> None:
    with pytest.raises(SettingsError, match="REDIS_URL"):
        sentinel_app(url, sandbox)
    host = Flask(__name__)
    host.config.update(AA_AUTH_URL=sandbox.url, AA_CLIENT_ID="demo-portal", AA_REDIS_URL=url)
    host.config.update(AA_CLIENT_SECRET=DEMO_CLIENT_SECRET, AA_REDIRECT_URI=REDIRECT_URI)
    host.config.update(SECRET_KEY="a-test-only-secret-key-of-forty-characters")
    with pytest.raises(ConfigError, match="AA_REDIS_URL"):
        AltitudeAngel(host)


def test_sessions_tokens_locks_sign_ins_and_limits_all_live_on_the_named_primary(
    app_on_sentinels: Flask, redis_sentinels: LocalSentinels
) -> None:
    client = app_on_sentinels.test_client()
    primary = redis_sentinels.node(redis_sentinels.primary())
    replica = redis_sentinels.node(redis_sentinels.replica())
    started = client.get("/login")
    assert started.status_code == 302
    assert primary.keys("portal:pending:*")  # the pending sign-in
    assert primary.keys("portal:ratelimit*")  # the sign-in limit's counter
    login_id = sign_in(client, "alice")

    store = peek.token_store(app_on_sentinels)
    assert client.get(PAGE).status_code == 200
    assert primary.exists(store.key(login_id)) == 1
    assert primary.keys("portal:session:*")
    lock = store.lock(login_id, 5)
    assert lock.acquire()
    assert primary.exists(store.key(login_id, "lock")) == 1
    lock.release()
    redis_sentinels.wait_in_sync()
    assert replica.exists(store.key(login_id)) == 1  # and the replica has them too


def test_a_demoted_primary_is_left_for_the_promoted_one_without_an_error(
    app_on_sentinels: Flask, redis_sentinels: LocalSentinels, sandbox: ServiceProcess
) -> None:
    client = app_on_sentinels.test_client()
    sign_in(client, "bob")
    assert client.get(PAGE).status_code == 200  # the app now holds connections to the primary
    old = redis_sentinels.primary()
    redis_sentinels.wait_in_sync()
    redis_sentinels.sentinel().sentinel_failover(SERVICE)
    redis_sentinels.wait_for_promotion(old)
    redis_sentinels.wait_for_demotion(old)

    # The Sentinels close every client of the node they demote, so the race cannot be had on
    # demand: a connection opened just after that, from a Sentinel's answer given just before,
    # reaches the demoted node. Make one, as redis-py's pool would have made it.
    pool = peek.portal_redis(app_on_sentinels).connection_pool
    stale = pool.get_connection()
    stale.disconnect()
    pool.proxy.master_address = ("127.0.0.1", old.port)
    stale.connect_to(pool.proxy.master_address)
    pool.release(stale)
    # The old primary is a replica now: a write there is refused (READONLY), and the client
    # asks the Sentinels again rather than fail the request.
    store = peek.token_store(app_on_sentinels)
    assert store.lock("after-a-failover", 5).acquire()
    assert pool.master_address[1] != old.port
    signed_in = sign_in(client, "alice")  # writes a pending sign-in, a session and tokens
    assert client.get(PAGE).status_code == 200
    assert redis_sentinels.node(redis_sentinels.primary()).exists(store.key(signed_in))


def test_while_no_primary_answers_pages_are_503s_then_every_worker_serves_again(
    redis_sentinels: LocalSentinels, sandbox: ServiceProcess
) -> None:
    app = app_process(redis_sentinels.url, sandbox, workers=3).start()
    try:
        browser = sign_in_over_http(app.url)
        cookies = browser.cookies.get_dict()
        assert pages(app, cookies, 12) == [200] * 12
        redis_sentinels.wait_in_sync()
        old = redis_sentinels.kill_primary()

        during = pages(app, cookies, 12)
        # Nothing but the friendly 503, until a replica is promoted: never a 500 or a sign-out.
        assert set(during) <= {200, 503}, during
        assert 503 in during
        redis_sentinels.wait_for_promotion(old)
        deadline = time.monotonic() + 10
        while (after := pages(app, cookies, 24)) != [200] * 24:
            assert set(after) <= {200, 503}, after
            assert time.monotonic() < deadline, "the app did not find the new primary"
            time.sleep(0.2)
        redis_sentinels.rejoin(old)
    finally:
        app.stop()


def pages(app: ServiceProcess, cookies: dict[str, str], count: int) -> list[int]:
    """Ask for the signed-in page ``count`` times at once, each on a connection of its own."""

    def one(_: int) -> int:
        answer = requests.get(
            app.url + PAGE,
            cookies=cookies,
            headers={"Connection": "close"},
            allow_redirects=False,
            timeout=20,
        )
        if answer.status_code == 503:
            assert answer.headers["Retry-After"]
        return answer.status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))

"""The app on a three-master Redis Cluster: sessions, the token store's CAS and the refresh lock.

The app runs in-process against the cluster; the sandbox keeps its own single Redis.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from redis.crc import key_slot

from app import create_app
from flask_altitudeangel._tokens import UserToken
from tests import peek
from tests.cluster.conftest import DEMO_SECRET, USERS
from tests.cluster.redis_cluster import LocalRedisCluster
from tests.oauth_driver import SandboxUser, parse_forms
from tests.services import ServiceProcess

pytestmark = pytest.mark.cluster

# Registered for demo-portal by default; the driver stops at the redirect, nothing listens there.
REDIRECT_URI = "http://localhost:5000/callback"
CONCURRENT_REFRESHES = 6


@pytest.fixture
def cluster_app(redis_cluster: LocalRedisCluster, sandbox: ServiceProcess) -> Iterator[Flask]:
    app = create_app(
        {
            "AA_AUTH_URL": sandbox.url,
            "AA_CLIENT_ID": "demo-portal",
            "AA_CLIENT_SECRET": DEMO_SECRET,
            "AA_REDIRECT_URI": REDIRECT_URI,
            "AA_REQUIRE_ISS": "1",
            "REDIS_URL": redis_cluster.url,
            "FLOW_TRACE": "1",
            "SECRET_KEY": "cluster-test-secret-key-" + "c" * 32,
        }
    )
    app.config["TESTING"] = True
    yield app
    peek.portal_redis(app).close()


def sign_in(client: FlaskClient, username: str) -> str:
    """Sign in through the sandbox's pages; return the new login id."""
    started = client.get("/login")
    assert started.status_code == 302, started.text[:300]
    callback = SandboxUser(username, USERS[username]).authorize(
        started.headers["Location"], REDIRECT_URI
    )
    parts = urlsplit(callback)
    finished = client.get(f"{parts.path}?{parts.query}")
    assert finished.status_code == 303, finished.text[:300]
    return str(peek.login_id(client))


def refresh_requests(sandbox: ServiceProcess) -> float:
    text = requests.get(sandbox.url + "/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "sandbox_token_requests_total"
        and sample.labels.get("grant_type") == "refresh_token"
    )


def refresh_from_many_threads(app: Flask, login_id: str, stale: UserToken) -> list[int]:
    """Ask for a refresh of the same stale token from several threads at once."""
    start = threading.Barrier(CONCURRENT_REFRESHES)

    def refresh() -> int:
        start.wait(timeout=10)
        return peek.lifecycle(app).refresh_after_rejection(login_id, stale).version

    with ThreadPoolExecutor(CONCURRENT_REFRESHES) as pool:
        futures = [pool.submit(refresh) for _ in range(CONCURRENT_REFRESHES)]
        return [future.result(timeout=30) for future in futures]


def test_the_cluster_is_three_masters(redis_cluster: LocalRedisCluster) -> None:
    nodes = redis_cluster.node(redis_cluster.ports[0]).cluster("nodes")

    assert len([node for node in nodes.values() if "master" in node["flags"]]) == 3


def test_a_whole_login_works_on_a_redis_cluster(
    cluster_app: Flask, redis_cluster: LocalRedisCluster, sandbox: ServiceProcess
) -> None:
    client = cluster_app.test_client()
    store = peek.token_store(cluster_app)
    redis = peek.portal_redis(cluster_app)
    login_id = sign_in(client, "alice")

    # The hash tag puts every key of one login in one slot, so Lua and locks may use them together.
    keys = [store.key(login_id, part) for part in ("tokens", "lock", "trace")]
    assert len({key_slot(key.encode()) for key in keys}) == 1
    assert redis.exists(keys[0]) == 1
    listing = client.get("/flight-reports")
    assert listing.status_code == 200, listing.text[:300]
    # alice's reports, fetched with her token: which come first depends on what other tests
    # filed for her meanwhile on the shared sandbox, so any of them will do
    reports = re.findall(r'href="(/flight-reports/[^"/?]+)"', listing.text)
    report = next(path for path in reports if not path.endswith("/new"))
    assert client.get(report).status_code == 200  # also fetches the shared client token

    stale = store.get(login_id)
    assert stale is not None
    before = refresh_requests(sandbox)
    versions = refresh_from_many_threads(cluster_app, login_id, stale)

    assert versions == [stale.version + 1] * CONCURRENT_REFRESHES
    assert refresh_requests(sandbox) - before == 1  # one refresh for all, under the lock
    fresh = store.get(login_id)
    assert fresh is not None and fresh.refresh_token != stale.refresh_token
    # The compare-and-set refuses a write based on the version it replaced.
    assert store.compare_and_set(login_id, stale.version, stale) is None
    assert store.get(login_id) == fresh
    assert client.get("/flight-reports").status_code == 200  # with the refreshed token
    assert client.get("/flow").status_code == 200  # the login's trace, a list in the same slot
    assert redis.llen(keys[2]) > 0

    page = client.get("/flight-reports")
    csrf = next(f for f in parse_forms(page.text) if f.action.endswith("/logout"))
    signed_out = client.post("/logout", data={"csrf_token": csrf.fields["csrf_token"]})

    assert signed_out.status_code == 303
    assert store.get(login_id) is None
    assert redis.exists(*keys) == 0
    after = client.get("/flight-reports")
    assert after.status_code == 401
    assert b"Please sign in" in after.data


def test_the_refresh_lock_is_exclusive_on_a_cluster(cluster_app: Flask) -> None:
    tokens = peek.token_store(cluster_app)
    mine, theirs = tokens.lock("cluster-lock-test", 5), tokens.lock("cluster-lock-test", 5)

    assert mine.acquire()
    try:
        assert not theirs.acquire()
        assert theirs.held()
    finally:
        mine.release()
    assert theirs.acquire()
    theirs.release()

"""The Sentinel variants of the deployment: docker-compose.sentinel.yml's wiring, checked
without Docker, and `make run-cluster` with REDIS_MODE=sentinel, run for real."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
import yaml

from flask_altitudeangel._redis import parse_sentinel_url
from tests.cluster.test_compose_settings import REDIS_PASSWORD
from tests.services import ROOT, free_port, wait_for_http

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def sentinel_compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.sentinel.yml").read_text())


def test_the_app_asks_every_sentinel_of_the_compose_file_for_the_primary_it_monitors(
    sentinel_compose: dict[str, Any],
) -> None:
    services = sentinel_compose["services"]
    url = services["app"]["environment"]["REDIS_URL"].replace("${REDIS_PASSWORD}", REDIS_PASSWORD)
    read = parse_sentinel_url(url)
    sentinels = sorted(name for name in services if name.startswith("sentinel-"))

    assert read.sentinels == [(name, 26379) for name in sentinels] and len(sentinels) == 3
    assert read.node_options["password"] == REDIS_PASSWORD
    # The Sentinels watch the service the URL names, on the node the replica follows.
    config = " ".join(sentinel_compose["x-sentinel"]["command"])
    assert f"'sentinel monitor {read.service} redis-primary 6379 2'" in config
    replica = services["redis-replica"]["command"]
    assert replica[replica.index("--replicaof") + 1 :][:2] == ["redis-primary", "6379"]
    for node in ("redis-primary", "redis-replica"):  # either may be the primary one day
        assert "--masterauth" in services[node]["command"]
    assert {f"sentinel-{n}" for n in (1, 2, 3)} <= set(services["app"]["depends_on"])


@pytest.fixture
def cluster_run() -> Iterator[dict[str, str]]:
    """Start scripts/run-cluster.sh with REDIS_MODE=sentinel on free ports; stop it after."""
    names = ("CLUSTER_PORT", "CLUSTER_HTTP_PORT", "APP1_PORT", "APP2_PORT", "SANDBOX_PORT")
    names += ("REDIS_PORT", "REDIS_PRIMARY_PORT", "REDIS_REPLICA_PORT")
    ports = {name: str(free_port()) for name in names}
    ports["SENTINEL_PORTS"] = " ".join(str(free_port()) for _ in range(3))
    ports["REDIS_MODE"] = "sentinel"
    process = subprocess.Popen(
        ["scripts/run-cluster.sh"],
        cwd=ROOT,
        env={**os.environ, **ports},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # nginx starts last, once both instances answer.
        wait_for_http(f"http://127.0.0.1:{ports['CLUSTER_HTTP_PORT']}/nginx-health", process, 90)
        yield ports
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_run_cluster_with_sentinels_serves_both_instances_from_the_primary(
    cluster_run: dict[str, str],
) -> None:
    for app in ("APP1_PORT", "APP2_PORT"):
        url = f"http://127.0.0.1:{cluster_run[app]}/readyz"  # answers 200 once Redis does
        deadline = time.monotonic() + 20
        while (answer := requests.get(url, timeout=5)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.2)
    sentinel = redis.Redis(port=int(cluster_run["SENTINEL_PORTS"].split()[0]), socket_timeout=5)
    assert sentinel.sentinel_get_master_addr_by_name("portal")[1] == int(
        cluster_run["REDIS_PRIMARY_PORT"]
    )
    port = int(cluster_run["REDIS_PRIMARY_PORT"])
    primary = redis.Redis(port=port, socket_timeout=5, client_name="wiring-test")
    # The instances asked the Sentinels, and their connections are to the primary: clients
    # other than the Sentinels (named sentinel-...), the replica (flag S) and this test.
    clients = [
        client
        for client in primary.client_list()
        if not client["name"].startswith("sentinel-")
        and "S" not in client["flags"]
        and client["name"] != "wiring-test"
    ]
    assert clients

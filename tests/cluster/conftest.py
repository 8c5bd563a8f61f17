"""Deployments in miniature: two instances behind nginx, and the app on a Redis Cluster."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.cluster.balancer import NGINX, Nginx, app_instance
from tests.cluster.redis_cluster import LocalRedisCluster
from tests.services import RedisServer, ServiceProcess, free_port, sandbox_process

DEMO_SECRET = "demo+portal/secret=&%?#2026"
USERS = {"alice": "wonderland", "bob": "builder"}
SHARED_SECRET_KEY = "cluster-test-secret-key-" + "k" * 32


@dataclass
class BalancedPortal:
    """The app as users meet it: nginx at ``url`` in front of ``instances``."""

    nginx: Nginx
    instances: list[ServiceProcess]
    sandbox: ServiceProcess

    @property
    def url(self) -> str:
        return self.nginx.url

    @property
    def redirect_uri(self) -> str:
        return self.url + "/callback"

    def upstreams(self) -> set[str]:
        return {f"127.0.0.1:{instance.port}" for instance in self.instances}


@pytest.fixture(scope="module")
def balanced_portal(redis_server: RedisServer) -> Iterator[BalancedPortal]:
    if not NGINX.is_file():
        pytest.fail(f"nginx is needed at {NGINX} for the cluster tests: apt-get install nginx")
    nginx_port = free_port()
    public_url = f"http://127.0.0.1:{nginx_port}"
    # nginx's URL is not a registered redirect URI of the demo client: register it.
    sandbox = sandbox_process(
        redis_server.url, SANDBOX_EXTRA_REDIRECT_URIS=public_url + "/callback"
    )
    instances: list[ServiceProcess] = []
    nginx: Nginx | None = None
    try:
        sandbox.start()
        env = {
            "AA_AUTH_URL": sandbox.url,
            "AA_CLIENT_ID": "demo-portal",
            "AA_CLIENT_SECRET": DEMO_SECRET,
            "AA_REDIRECT_URI": public_url + "/callback",
            "AA_REQUIRE_ISS": "1",
            "REDIS_URL": redis_server.url,
            "SECRET_KEY": SHARED_SECRET_KEY,
            "TRUST_PROXY": "1",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
        for _ in range(2):
            instances.append(app_instance(env))
            instances[-1].start()
        nginx = Nginx([f"127.0.0.1:{i.port}" for i in instances], port=nginx_port)
        nginx.start()
        yield BalancedPortal(nginx, instances, sandbox)
    finally:
        if nginx is not None:
            nginx.cleanup()
        for instance in instances:
            instance.stop()
        sandbox.stop()


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[LocalRedisCluster]:
    cluster = LocalRedisCluster()
    try:
        yield cluster.start()
    finally:
        cluster.cleanup()

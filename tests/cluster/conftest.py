"""The app on a Redis Cluster, and docker-compose's wiring checked without Docker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.redis_cluster import LocalRedisCluster

DEMO_SECRET = "demo+portal/secret=&%?#2026"
USERS = {"alice": "wonderland", "bob": "builder"}


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[LocalRedisCluster]:
    cluster = LocalRedisCluster()
    try:
        yield cluster.start()
    finally:
        cluster.cleanup()

"""The app on a Redis Cluster or behind Sentinels, and docker-compose's wiring checked without
Docker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.redis_cluster import LocalRedisCluster
from tests.cluster.redis_sentinel import LocalSentinels

DEMO_SECRET = "demo+portal/secret=&%?#2026"
USERS = {"alice": "wonderland", "bob": "builder"}


@pytest.fixture(scope="module")
def redis_cluster() -> Iterator[LocalRedisCluster]:
    cluster = LocalRedisCluster()
    try:
        yield cluster.start()
    finally:
        cluster.cleanup()


@pytest.fixture(scope="module")
def redis_sentinels() -> Iterator[LocalSentinels]:
    """A primary and a replica behind three Sentinels, each with a password of its own."""
    sentinels = LocalSentinels(password="data+nodes/pass", sentinel_password="sentinels-own")
    try:
        yield sentinels.start()
    finally:
        sentinels.cleanup()

"""A Redis client for a URL: one node or a cluster, with short timeouts."""

from __future__ import annotations

from typing import Any

import redis
from redis.cluster import RedisCluster

CLUSTER_SCHEMES = {"redis+cluster://": "redis://", "rediss+cluster://": "rediss://"}


def connect(url: str, timeout: float) -> Any:
    """Return a client for ``url``; ``redis+cluster://`` (``rediss+cluster://`` with TLS) means
    a Redis Cluster reached through any of its nodes."""
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
    }
    for cluster_scheme, scheme in CLUSTER_SCHEMES.items():
        if url.startswith(cluster_scheme):
            return RedisCluster.from_url(scheme + url[len(cluster_scheme) :], **options)
    return redis.Redis.from_url(url, **options)

"""The app's one Redis connection pool, single node or cluster, with short timeouts."""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app
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


def get_redis() -> Any:
    """Return the current app's Redis client."""
    return current_app.extensions["portal_redis"]

"""The app's one Redis connection pool, single node or cluster, with short timeouts."""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app
from redis.cluster import RedisCluster

CLUSTER_SCHEME = "redis+cluster://"


def connect(url: str, timeout: float) -> Any:
    """Return a client for ``url``; ``redis+cluster://host:port`` means a Redis Cluster."""
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
    }
    if url.startswith(CLUSTER_SCHEME):
        return RedisCluster.from_url("redis://" + url[len(CLUSTER_SCHEME) :], **options)
    return redis.Redis.from_url(url, **options)


def get_redis() -> Any:
    """Return the current app's Redis client."""
    return current_app.extensions["portal_redis"]

"""Prometheus metrics of the client web app itself; the sign-in extension keeps its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry(auto_describe=True)

REDIS_ERRORS = Counter(
    "portal_redis_errors_total",
    "Requests that failed because Redis was unreachable or too slow.",
    registry=REGISTRY,
)

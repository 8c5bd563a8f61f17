"""Prometheus metrics of the client web app, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REFRESHES = Counter(
    "portal_token_refreshes_total",
    "User token refreshes by outcome: success, invalid_grant, unavailable, lost_race_resolved.",
    ["outcome"],
    registry=REGISTRY,
)
LOCK_WAIT_SECONDS = Histogram(
    "portal_refresh_lock_wait_seconds",
    "Time a request waited for another request's refresh of the same login.",
    registry=REGISTRY,
)
TOKEN_ENDPOINT_SECONDS = Histogram(
    "portal_token_endpoint_seconds",
    "Latency of calls to the authorization server by kind and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
API_SECONDS = Histogram(
    "portal_api_seconds",
    "Latency of calls to the platform's APIs by operation and HTTP status.",
    ["operation", "status"],
    registry=REGISTRY,
)
REDIS_ERRORS = Counter(
    "portal_redis_errors_total",
    "Requests that failed because Redis was unreachable or too slow.",
    registry=REGISTRY,
)
LOGINS = Counter(
    "portal_logins_total",
    "Sign-in callbacks by outcome.",
    ["outcome"],
    registry=REGISTRY,
)

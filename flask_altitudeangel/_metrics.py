"""Prometheus metrics of sign-ins, the token lifecycle and API calls, in a registry of their own.

A host serves them with ``prometheus_client.generate_latest(REGISTRY)`` beside its own; under
gunicorn's multiprocess mode they are collected with every other metric of the process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

SIGN_INS = Counter(
    "altitudeangel_sign_ins_total",
    "Sign-in callbacks by outcome: success, or why one was refused.",
    ["outcome"],
    registry=REGISTRY,
)
REFRESHES = Counter(
    "altitudeangel_token_refreshes_total",
    "User token refreshes by outcome: success, invalid_grant, refused, unavailable, "
    "lost_race_resolved.",
    ["outcome"],
    registry=REGISTRY,
)
LOCK_WAIT_SECONDS = Histogram(
    "altitudeangel_refresh_lock_wait_seconds",
    "Time a request waited for another request's refresh of the same login.",
    registry=REGISTRY,
)
TOKEN_ENDPOINT_SECONDS = Histogram(
    "altitudeangel_token_endpoint_seconds",
    "Latency of calls to the authorization server by kind and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
API_SECONDS = Histogram(
    "altitudeangel_api_seconds",
    "Latency of calls to the platform's APIs by operation and HTTP status.",
    ["operation", "status"],
    registry=REGISTRY,
)
DURABLE_WRITES = Counter(
    "altitudeangel_durable_writes_total",
    "Writes that must outlive a failover (rotated tokens, refresh locks), by outcome: confirmed "
    "(a replica has it), no_replica (none to wait for), behind (no replica caught up in time: "
    "on the primary only), retried (written again after the primary failed mid-write).",
    ["outcome"],
    registry=REGISTRY,
)


@cache
def api_timer(operation: str, status: str) -> Any:
    """Return the API latency histogram's child for these labels, looked up once."""
    return API_SECONDS.labels(operation, status)

"""Refresh storm: many concurrent page views of one user just after the access token expired.

Two instances × four workers of the app, and of the peer, against a sandbox with short-lived
access tokens and rotating refresh tokens with reuse detection. The same storm with a fresh
token, just after sign-in, gives the latency the refresh adds.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from altitudeangel_sandbox.processes import ServiceProcess, free_port
from bench import flows, load, metrics
from bench.plan import Plan
from bench.services import APP_MODULE, Stack, portal_env
from bench.world import PAGE, peer_service, signed_in_cookie

INSTANCES, WORKERS = 2, 4


@dataclass
class StormWorld:
    sandbox: ServiceProcess
    apps: list[ServiceProcess]
    peers: list[ServiceProcess]
    ttl: int


def build(stack: Stack, plan: Plan) -> StormWorld:
    ttl = plan.storm_ttl
    sandbox = stack.sandbox(stack.redis(), SANDBOX_ACCESS_TOKEN_TTL=str(ttl))
    app_redis, peer_redis = stack.redis(), stack.redis()
    port = free_port()
    env = portal_env(app_redis, sandbox, f"http://127.0.0.1:{port}/callback", FLOW_TRACE="0")
    apps = [stack.gunicorn_unstarted(APP_MODULE, env, WORKERS, port)]
    apps += [stack.gunicorn_unstarted(APP_MODULE, env, WORKERS) for _ in range(INSTANCES - 1)]
    # The peer refreshes as early as the app does: min(60 s, half the lifetime) before expiry.
    leeway = min(60, ttl // 2)
    peers = [
        peer_service(stack, peer_redis, sandbox, sandbox.url, WORKERS, leeway=leeway)
        for _ in range(INSTANCES)
    ]
    stack.start_all(apps + peers)
    for instances in (apps, peers):
        warm_up(instances)
    return StormWorld(sandbox, apps, peers, ttl)


def warm_up(instances: list[ServiceProcess]) -> None:
    """Serve another user's page on every worker first: the storm must not pay for start-up."""
    cookie = signed_in_cookie(instances[0], "bob")
    for instance in instances:
        load.wrk(instance.url + PAGE, 2 * WORKERS, 1, cookie)


def run(world: StormWorld, plan: Plan) -> dict[str, Any]:
    round_trip = token_round_trip(world.sandbox)
    app_cookie, app_at = signed_in_cookie(world.apps[0]), time.monotonic()
    app_fresh = storm(world, world.apps, app_cookie, plan.storm_size)
    # A second fresh storm: how far two storms differ with nothing changed between them.
    app_fresh_again = storm(world, world.apps, app_cookie, plan.storm_size)
    peer_cookie, peer_at = signed_in_cookie(world.peers[0]), time.monotonic()
    peer_fresh = storm(world, world.peers, peer_cookie, plan.storm_size)
    # Past the expiry of both: the refresh margin has long been reached too.
    time.sleep(max(0.0, max(app_at, peer_at) + world.ttl + 0.5 - time.monotonic()))
    refresh_before, waits_before = _refresh_seconds(world.apps), _lock_waits(world.apps)
    app_expired = storm(world, world.apps, app_cookie, plan.storm_size)
    refresh_after, waits_after = _refresh_seconds(world.apps), _lock_waits(world.apps)
    waiters = waits_after[1] - waits_before[1]
    peer_expired = storm(world, world.peers, peer_cookie, plan.storm_size)
    count = refresh_after[1] - refresh_before[1]
    observed = (refresh_after[0] - refresh_before[0]) / count * 1000 if count else None
    return {
        "ttl_seconds": world.ttl,
        "requests": plan.storm_size,
        "token_round_trip_ms": round_trip,
        "app_refresh_ms_in_storm": observed,
        "app_waiters": waiters,
        "app_mean_wait_ms": (waits_after[0] - waits_before[0]) / waiters * 1000 if waiters else 0,
        "fresh_storm_p99_spread_ms": abs(app_fresh_again["p99_ms"] - app_fresh["p99_ms"]),
        "app": {"fresh": app_fresh, "expired": app_expired, **_added(app_fresh, app_expired)},
        "peer": {"fresh": peer_fresh, "expired": peer_expired, **_added(peer_fresh, peer_expired)},
    }


def storm(
    world: StormWorld, targets: list[ServiceProcess], cookie: str, size: int
) -> dict[str, Any]:
    """Release ``size`` page views of one user at once, alternating between instances."""
    urls = [targets[i % len(targets)].url + PAGE for i in range(size)]
    before = metrics.token_requests(world.sandbox)
    answers = load.burst(urls, cookie)
    tokens = metrics.delta(metrics.token_requests(world.sandbox), before)
    seconds = [a.seconds for a in answers]
    sign_outs = sum(1 for a in answers if _signed_out(a))
    return {
        "token_requests": tokens.get("total", 0),
        "token_outcomes": {k: v for k, v in tokens.items() if k != "total"},
        "ok": sum(1 for a in answers if a.status == 200),
        "forced_sign_outs": sign_outs,
        "failures": sum(1 for a in answers if a.status != 200 and not _signed_out(a)),
        "p50_ms": load.percentile(seconds, 0.50) * 1000,
        "p99_ms": load.percentile(seconds, 0.99) * 1000,
    }


def _signed_out(answer: load.Answer) -> bool:
    return answer.status == 401 or (300 <= answer.status < 400 and "/login" in answer.location)


def _added(fresh: dict[str, Any], expired: dict[str, Any]) -> dict[str, float]:
    return {
        "added_p50_ms": expired["p50_ms"] - fresh["p50_ms"],
        "added_p99_ms": expired["p99_ms"] - fresh["p99_ms"],
    }


def _refresh_seconds(apps: list[ServiceProcess]) -> tuple[float, float]:
    """Return the sum and count of the app's refresh calls to the token endpoint, all instances."""
    name = "altitudeangel_token_endpoint_seconds"
    total = sum(metrics.samples(a, f"{name}_sum", kind="refresh_token") for a in apps)
    count = sum(metrics.samples(a, f"{name}_count", kind="refresh_token") for a in apps)
    return total, count


def _lock_waits(apps: list[ServiceProcess]) -> tuple[float, float]:
    """Return the sum and count of the app's waits for another request's refresh."""
    name = "altitudeangel_refresh_lock_wait_seconds"
    return (
        sum(metrics.samples(a, f"{name}_sum") for a in apps),
        sum(metrics.samples(a, f"{name}_count") for a in apps),
    )


def token_round_trip(sandbox: ServiceProcess, times: int = 5) -> float:
    """Return the median refresh round trip to the idle sandbox, in milliseconds."""
    token = flows.user_token(sandbox)
    seconds = []
    for _ in range(times):
        took, token = flows.refresh(sandbox, token["refresh_token"])
        seconds.append(took)
    return statistics.median(seconds) * 1000

"""Overhead vs the limits: CPU per request, throughput and latency of the app, with Bearer and
with DPoP-bound tokens, against the same-I/O baseline, the floor and the peer.

The app, the app with DPoP, the baseline and the floor run one after the other at each
concurrency, ``rounds`` times, so drifting load on the machine hits them alike; each figure is
the median over the rounds, each ratio the median of the rounds' pairs.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench import load
from bench.plan import Plan
from bench.procs import CpuMeter
from bench.world import SignedIn, World

ALTERNATED = ("app", "app_dpop", "baseline", "floor")


def run(world: World, plan: Plan) -> dict[str, Any]:
    targets = {
        "app": world.app,
        "app_dpop": world.app_dpop(),
        "baseline": world.baseline,
        "floor": world.floor,
        "peer": world.peer,
    }
    if not plan.smoke:
        for target in targets.values():  # warm every worker's pools and caches
            load.wrk(target.page, 8, 1, target.cookie)
    runs: dict[str, dict[int, list[dict[str, float]]]] = {name: {} for name in targets}
    for _ in range(plan.rounds):
        for connections in plan.connections:
            for name in ALTERNATED:
                one = measure(world, targets[name], connections, plan.seconds)
                runs[name].setdefault(connections, []).append(one)
    for connections in plan.connections:  # the peer is not a target: one round is enough
        runs["peer"][connections] = [measure(world, world.peer, connections, plan.seconds)]
    return {
        name: {str(c): {**median_run(rounds), "rounds": rounds} for c, rounds in per.items()}
        for name, per in runs.items()
    }


def measure(world: World, target: SignedIn, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run, with the CPU of the target's gunicorn, the upstream and Redis around it."""
    assert target.service.process is not None and world.upstream.process is not None
    assert world.app_redis.process is not None and world.peer_redis.process is not None
    meter = CpuMeter(
        {
            "workers": [target.service.process.pid],
            "upstream": [world.upstream.process.pid],
            "redis": [world.app_redis.process.pid, world.peer_redis.process.pid],
        }
    ).start()
    result = load.wrk(target.page, connections, seconds, target.cookie)
    cpu = meter.stop()
    if result.errors:
        raise RuntimeError(f"{target.page}: {result.errors} failed requests at {connections}")
    workers = meter.per_pid["workers"]
    return {
        "rps": result.rps,
        "p50_ms": result.p50 * 1000,
        "p99_ms": result.p99 * 1000,
        "requests": result.requests,
        "cpu_us_per_request": cpu["workers"] / result.requests * 1e6,
        "upstream_cpu_share": cpu["upstream"] / cpu["machine"],
        "redis_cpu_share": cpu["redis"] / cpu["machine"],
        "machine_cores_busy": cpu["machine"] / result.seconds,
        # gthread workers keep the connections they accept: with few, one worker may get most.
        "busiest_worker_share": max(workers.values()) / max(sum(workers.values()), 1e-9),
    }


def median_run(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Return the median of each figure over the rounds."""
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


KEYS = {"cpu": "cpu_us_per_request", "rps": "rps", "p50": "p50_ms", "p99": "p99_ms"}


BALANCED = 0.55  # the busiest worker's share of the CPU under which a run counts as balanced


def balanced_ratios(overhead: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """Return the app/baseline throughput ratio over the round pairs where both were balanced."""
    result = {}
    for connections, mine in overhead["app"].items():
        base = overhead["baseline"][connections]["rounds"]
        pairs = [
            a["rps"] / b["rps"]
            for a, b in zip(mine["rounds"], base, strict=True)
            if max(a["busiest_worker_share"], b["busiest_worker_share"]) <= BALANCED
        ]
        result[connections] = (statistics.median(pairs) if pairs else float("nan"), len(pairs))
    return result


def ratios(
    overhead: dict[str, Any], of: str = "app", against: str = "baseline"
) -> dict[str, dict[str, float]]:
    """Return ``of`` relative to ``against`` (the baseline, the floor) at each concurrency.

    Each round's run is compared with the other's run next to it in time, and the median
    of those ratios is kept; with one round of ``of``, its run is compared with each round.
    """
    result = {}
    for connections, mine in overhead[of].items():
        base = overhead[against][connections]["rounds"]
        own = mine["rounds"] if len(mine["rounds"]) == len(base) else mine["rounds"] * len(base)
        result[connections] = {
            name: statistics.median(a[key] / b[key] for a, b in zip(own, base, strict=True))
            for name, key in KEYS.items()
        }
    return result

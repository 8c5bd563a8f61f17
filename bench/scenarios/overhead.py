"""Overhead vs the limit: CPU per request, throughput and latency of app, baseline and peer.

App and baseline run alternately at each concurrency, ``rounds`` times, so drifting load on the
machine hits both alike; each figure is the median over the rounds.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench import load
from bench.plan import Plan
from bench.procs import CpuMeter
from bench.world import SignedIn, World


def run(world: World, plan: Plan) -> dict[str, Any]:
    targets = {"app": world.app, "baseline": world.baseline, "peer": world.peer}
    if not plan.smoke:
        for target in targets.values():  # warm every worker's pools and caches
            load.wrk(target.page, 8, 1, target.cookie)
    runs: dict[str, dict[int, list[dict[str, float]]]] = {name: {} for name in targets}
    for _ in range(plan.rounds):
        for connections in plan.connections:
            for name in ("app", "baseline"):
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
        pairs = [
            a["rps"] / b["rps"]
            for a, b in zip(
                mine["rounds"], overhead["baseline"][connections]["rounds"], strict=True
            )
            if max(a["busiest_worker_share"], b["busiest_worker_share"]) <= BALANCED
        ]
        result[connections] = (statistics.median(pairs) if pairs else float("nan"), len(pairs))
    return result


def ratios(overhead: dict[str, Any], of: str = "app") -> dict[str, dict[str, float]]:
    """Return ``of`` relative to the baseline at each concurrency.

    Each round's run is compared with the baseline's run next to it in time, and the median
    of those ratios is kept; with one round of ``of``, its run is compared with each round.
    """
    result = {}
    for connections, mine in overhead[of].items():
        base = overhead["baseline"][connections]["rounds"]
        own = mine["rounds"] if len(mine["rounds"]) == len(base) else mine["rounds"] * len(base)
        result[connections] = {
            name: statistics.median(a[key] / b[key] for a, b in zip(own, base, strict=True))
            for name, key in KEYS.items()
        }
    return result

"""How much load each scenario sends: the full run, or a tiny smoke run of every scenario."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    smoke: bool
    seconds: float  # per wrk run
    rounds: int  # A/B alternations of app and baseline at each concurrency
    connections: tuple[int, ...]
    profile_requests: int
    instruction_views: int  # page views counted under callgrind, per app
    instruction_targets: tuple[str, ...]  # which to count; all when empty
    redis_views: int
    storm_size: int
    storm_ttl: int  # the storm sandbox's access token lifetime, seconds
    signins: int
    scale_connections: int
    flood_requests: int  # anonymous /login requests per flood


FULL = Plan(
    smoke=False,
    seconds=4,
    rounds=5,
    connections=(1, 8, 32, 64),
    profile_requests=800,
    instruction_views=40,
    instruction_targets=(),
    redis_views=200,
    storm_size=200,
    storm_ttl=16,
    signins=5,
    scale_connections=32,
    flood_requests=10_000,
)

SMOKE = Plan(
    smoke=True,
    seconds=1,
    rounds=1,
    connections=(1, 8, 32, 64),
    profile_requests=40,
    instruction_views=3,
    instruction_targets=("app", "floor"),  # each count starts an interpreter under valgrind
    redis_views=10,
    storm_size=20,
    storm_ttl=6,
    signins=1,
    scale_connections=16,
    flood_requests=200,
)

"""What durable token rotation costs: a WAIT for a replica per refresh, nothing per page view.

``python -m bench.scenarios.durable [--saves N] [--views N]`` on a primary with one replica
(both on loopback), writing bench/DURABLE.md beside the other results:

1. The token store's save of a rotated token, in-process, alternating rounds: the plain
   compare-and-set (durability off), durable on a primary without a replica (nothing to wait
   for), and durable with the replica attached (the compare-and-set and ``WAIT 1`` in one
   round trip). The last minus the first is what a refresh pays.
2. The app under gunicorn on the primary that has the replica: Redis commands per signed-in
   page view, from the primary's ``INFO commandstats`` (as the Redis work scenario counts
   them). Page views write nothing, so they wait for nothing: still 2 reads and 0 writes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import redis

from altitudeangel_sandbox.processes import RedisServer, free_port
from bench.scenarios.redis_work import measure
from bench.services import APP_MODULE, Stack, portal_env
from flask_altitudeangel._crypto import Cipher, derive_key
from flask_altitudeangel._tokens.model import UserToken
from flask_altitudeangel._tokens.store import RedisTokenStore

HERE = Path(__file__).resolve().parent.parent
ROUNDS = 5
TOKEN = UserToken("a" * 900, "r" * 43, "query_userinfo manage_flightreports", 0, 900, 0)


def save_times(client: redis.Redis, durable: bool, saves: int) -> list[float]:
    """Time ``saves`` refreshes' saves of one login, each a compare-and-set from the last."""
    store = RedisTokenStore(client, Cipher([derive_key("bench")], ""), "bench:durable:")
    if not durable:
        store._durable = None  # the store as it was before durable writes: the plain script
    login = f"login-{time.monotonic_ns()}"
    current = store.create(login, TOKEN, 2**31, 2**31)
    times = []
    for _ in range(saves):
        started = time.perf_counter()
        saved = store.compare_and_set(login, current.version, TOKEN)
        times.append(time.perf_counter() - started)
        assert saved is not None
        current = saved
    return times


def lock_times(client: redis.Redis, durable: bool, count: int) -> list[float]:
    """Time taking a refresh lock ``count`` times (each released after)."""
    store = RedisTokenStore(client, Cipher([derive_key("bench")], ""), "bench:durable:")
    if not durable:
        store._durable = None  # redis-py's Lock, as before durable writes
    times = []
    for n in range(count):
        lock = store.lock(f"lock-{n}", 15)
        started = time.perf_counter()
        assert lock.acquire()
        times.append(time.perf_counter() - started)
        lock.release()
    return times


def save_costs(primary: RedisServer, replica: RedisServer, saves: int) -> dict[str, float]:
    """Median microseconds per save and per lock, over alternating rounds of each way."""
    client = primary.client()
    samples: dict[str, list[float]] = {
        kind: [] for kind in ("plain", "no_replica", "with_replica", "lock_plain", "lock_durable")
    }
    for _ in range(ROUNDS):
        replica.client().replicaof("NO", "ONE")  # detached: the primary has no replica
        wait_until_replicas(client, 0)
        samples["no_replica"] += save_times(client, True, saves)
        replica.client().replicaof("127.0.0.1", primary.port)
        wait_until_replicas(client, 1)
        samples["plain"] += save_times(client, False, saves)
        samples["with_replica"] += save_times(client, True, saves)
        samples["lock_plain"] += lock_times(client, False, saves)
        samples["lock_durable"] += lock_times(client, True, saves)
    return {name: 1e6 * statistics.median(times) for name, times in samples.items()}


def wait_until_replicas(client: redis.Redis, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(client.execute_command("ROLE")[2]) != count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the primary did not get to {count} replicas")
        time.sleep(0.05)
    time.sleep(1.1)  # past the store's belief in the replica count it last saw


def page_views(stack: Stack, primary: RedisServer, views: int) -> dict[str, Any]:
    sandbox = stack.sandbox(stack.redis())
    port = free_port()
    env = portal_env(primary, sandbox, f"http://127.0.0.1:{port}/callback", FLOW_TRACE="0")
    app = stack.gunicorn(APP_MODULE, {**env, "AA_DPOP": "0"}, 2, port)
    return measure(app, primary, views, "portal")


def run(saves: int, views: int) -> dict[str, Any]:
    with Stack() as stack:
        primary = stack.redis()
        replica = RedisServer(options=("--replicaof", "127.0.0.1", str(primary.port))).start()
        try:
            costs = save_costs(primary, replica, saves)
            wait_until_replicas(primary.client(), 1)
            views_measured = page_views(stack, primary, views)
        finally:
            replica.cleanup()
    return {"save_us": costs, "page_view": views_measured["per_view"]}


def report(results: dict[str, Any], saves: int, views: int) -> str:
    cost = results["save_us"]
    extra = cost["with_replica"] - cost["plain"] + cost["lock_durable"] - cost["lock_plain"]
    view = results["page_view"]
    commands = ", ".join(f"{k} {v:g}" for k, v in sorted(view["commands"].items()))
    return "\n".join(
        [
            "# What durable token rotation costs",
            "",
            f"`python -m bench.scenarios.durable --saves {saves} --views {views}`: a primary and",
            "one replica on loopback; medians over alternating rounds (see the module's doc).",
            "",
            "| Save of a rotated token | µs per save |",
            "| --- | ---: |",
            f"| plain compare-and-set (no durability) | {cost['plain']:.0f} |",
            f"| durable, primary without a replica (no WAIT) | {cost['no_replica']:.0f} |",
            f"| durable, with a replica (`WAIT 1` in the same round trip) | "
            f"{cost['with_replica']:.0f} |",
            f"| of which the `WAIT` itself (with minus without a replica) | "
            f"{cost['with_replica'] - cost['no_replica']:.0f} |",
            f"| refresh lock, redis-py's `Lock` (no durability) | {cost['lock_plain']:.0f} |",
            f"| refresh lock, durable, with a replica | {cost['lock_durable']:.0f} |",
            f"| **what a refresh pays for the replica's acknowledgements (lock and save)** | "
            f"**{extra:.0f}** |",
            "",
            "On top of the token endpoint's round trip. The rest of the difference is the",
            "pipeline and the script sent whole (`EVAL`, so it can share the round trip with",
            "`WAIT`). Over a real network each WAIT costs the replica's round trip; a replica",
            "that lags costs up to half the Redis timeout.",
            "",
            f"Per signed-in page view on that primary: {view['reads']:g} reads, "
            f"{view['writes']:g} writes ({commands}).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=200, help="saves per round and kind")
    parser.add_argument("--views", type=int, default=50, help="page views counted")
    parser.add_argument("--out", type=Path, default=HERE / "DURABLE.md")
    args = parser.parse_args(argv)
    text = report(run(args.saves, args.views), args.saves, args.views)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

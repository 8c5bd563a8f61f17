"""This checkout's app against another commit's, measured alternately in the same run.

    .venv/bin/python -m bench.versus REV            # e.g. the commit before a change
    .venv/bin/python -m bench.versus REV --rounds 9

Whether a change made the signed-in page slower is a ratio between two runs of ``make bench``
only as far as the machine stays the same between them; on a shared 2-core machine it does not
(±15 %). Here the other commit is checked out into a temporary git worktree and served by the same
virtualenv and gunicorn settings, against the same sandbox and upstream (its own Redis: the two
versions need not agree on key formats), both signed in as alice, and wrk alternates between
them at each concurrency. Prints CPU per request and throughput, this checkout over REV, as the
median of each round's pair. Then the same page in-process (``bench/inprocess.py``), alternating
the two checkouts again: CPU of the request handling alone and Python calls per page, which tells
a change in the code from a change in the serving path. Last, the instructions of a page view in
each (``bench/instructions.py``): a count that repeats to a fraction of a per cent, so a change
of a few per cent shows in one run. The other commit must run with this checkout's virtualenv.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from altitudeangel_sandbox.processes import free_port
from bench import instructions, load
from bench.scenarios.overhead import measure
from bench.services import APP_MODULE, ROOT, Stack, register_redirect_uri
from bench.world import WORKERS, SignedIn, World, build_world, signed_in_cookie

CONNECTIONS = (1, 8, 32, 64)
IN_PROCESS_VIEWS = 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("rev", help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument(
        "--instruction-views",
        type=int,
        default=instructions.VIEWS,
        help="page views to count instructions over (0: do not count)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-versus-") as tmp:
        checkout = Path(tmp) / "other"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--quiet", "--detach", str(checkout), args.rev], check=True)  # noqa: S603
        try:
            with Stack() as stack:
                world = build_world(stack)
                other = start_other(world, checkout)
                compare(world, other, args.rounds, args.seconds)
                compare_in_process(world, other, checkout, args.rounds)
                if args.instruction_views:
                    compare_instructions(world, other, checkout, args.instruction_views)
        finally:
            subprocess.run([*git, "remove", "--force", str(checkout)], check=True)  # noqa: S603
    return 0


def start_other(world: World, checkout: Path) -> SignedIn:
    port = free_port()
    env = {**world.app_env, "REDIS_URL": world.stack.redis().url}
    env["AA_REDIRECT_URI"] = f"http://127.0.0.1:{port}/callback"
    register_redirect_uri(world.sandbox, env["AA_REDIRECT_URI"])
    service = world.stack.gunicorn_unstarted(APP_MODULE, env, WORKERS, port, cwd=checkout)
    service.start()
    return SignedIn(service, signed_in_cookie(service))


def compare(world: World, other: SignedIn, rounds: int, seconds: int) -> None:
    targets = {"this": world.app, "other": other}
    for target in targets.values():
        load.wrk(target.page, 8, 1, target.cookie)
    print("connections  CPU this/other  req/s this/other  (medians of the round pairs)")
    for connections in CONNECTIONS:
        pairs: list[tuple[dict[str, float], dict[str, float]]] = []
        for _ in range(rounds):
            one = {name: measure(world, t, connections, seconds) for name, t in targets.items()}
            pairs.append((one["this"], one["other"]))
        cpu = statistics.median(a["cpu_us_per_request"] / b["cpu_us_per_request"] for a, b in pairs)
        rps = statistics.median(a["rps"] / b["rps"] for a, b in pairs)
        spread = sorted(a["cpu_us_per_request"] / b["cpu_us_per_request"] for a, b in pairs)
        print(
            f"{connections:>11}  {cpu:>14.2f}×  {rps:>16.2f}×"
            f"  (CPU pairs {spread[0]:.2f}–{spread[-1]:.2f})",
            flush=True,
        )


def compare_in_process(world: World, other: SignedIn, checkout: Path, rounds: int) -> None:
    runs = {
        "this": (ROOT, world.app_env, world.app.cookie),
        "other": (checkout, {**world.app_env, **other.service.env}, other.cookie),
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (cwd, env, cookie) in runs.items():
            results[name].append(in_process(cwd, env, cookie))
    cpu = statistics.median(
        a["cpu_us_per_page"] / b["cpu_us_per_page"]
        for a, b in zip(results["this"], results["other"], strict=True)
    )
    this_us = statistics.median(r["cpu_us_per_page"] for r in results["this"])
    other_us = statistics.median(r["cpu_us_per_page"] for r in results["other"])
    calls = {name: f"{results[name][0]['calls_per_page']:,.0f}" for name in runs}
    print(
        f"in-process   CPU {cpu:.2f}× ({this_us:,.0f} / {other_us:,.0f} µs per page, median)"
        f"  Python calls {calls['this']} / {calls['other']} per page",
        flush=True,
    )


def compare_instructions(world: World, other: SignedIn, checkout: Path, views: int) -> None:
    """Count the instructions of a page view in each checkout (no rounds: the count repeats)."""
    runs = {
        "this": (world.app_env, world.app.cookie, ROOT),
        "other": ({**world.app_env, **other.service.env}, other.cookie, checkout),
    }
    with ThreadPoolExecutor(2) as pool:
        counted = dict(
            zip(
                runs,
                pool.map(
                    lambda r: instructions.count("app", r[0], r[1], views, r[2]), runs.values()
                ),
                strict=True,
            )
        )
    print(
        f"instructions {counted['this'] / counted['other']:.3f}× "
        f"({counted['this']:,.0f} / {counted['other']:,.0f} per page, over {views} views)",
        flush=True,
    )


def in_process(cwd: Path, env: dict[str, str], cookie: str) -> dict[str, float]:
    """One round of ``bench/inprocess.py`` in ``cwd``'s checkout."""
    given = json.dumps({"env": env, "cookie": cookie, "views": IN_PROCESS_VIEWS})
    answer = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-P", str(ROOT / "bench" / "inprocess.py")],
        cwd=cwd,
        input=given,
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode:
        raise SystemExit(f"bench/inprocess.py failed in {cwd}:\n{answer.stderr[-3000:]}")
    return json.loads(answer.stdout)  # type: ignore[no-any-return]


if __name__ == "__main__":
    raise SystemExit(main())

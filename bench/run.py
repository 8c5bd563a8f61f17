"""Run every benchmark and write RESULTS.md, results.png and results.json.

    .venv/bin/python -m bench.run            # the full run, about 5 minutes on 2 cores
    .venv/bin/python -m bench.run --smoke    # every scenario with a tiny load, under a minute

Everything runs on loopback, on free ports, in a temporary directory that is removed at the
end, even when a scenario fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import instructions, machine, profile, report
from bench.baseline import create_baseline
from bench.plan import FULL, SMOKE, Plan
from bench.scenarios import dpop, floods, overhead, redis_work, scale, signin, storm
from bench.services import Stack
from bench.world import PAGE, World, build_world

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--smoke", action="store_true", help="tiny load, for the smoke test")
    parser.add_argument("--out", type=Path, help="where to write (default: bench/, or a temp dir)")
    parser.add_argument(
        "--report-only", type=Path, metavar="JSON", help="rewrite the report from a results.json"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        report.write(json.loads(args.report_only.read_text()), args.out or args.report_only.parent)
        return 0
    plan = SMOKE if args.smoke else FULL
    out = args.out or (Path(tempfile.mkdtemp(prefix="bench-smoke-")) if args.smoke else HERE)
    command = "python -m bench.run" + (" --smoke" if args.smoke else "")
    results = run_all(plan, command)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    report.write(results, out)
    seconds = results["meta"]["seconds"]
    print(f"wrote {out}/RESULTS.md, results.png and results.json in {seconds:.0f} s")
    return 0


def run_all(plan: Plan, command: str) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {"meta": machine.describe(command, datetime.now(UTC), plan.smoke)}
    with Stack() as stack:
        with _step("world"):
            world = build_world(stack)
        with _step("overhead"):
            results["overhead"] = overhead.run(world, plan)
        with _step("profile"):
            results["profile"] = profile_both(world, plan)
        with _step("instructions"):
            results["instructions"] = instructions.run(
                world, plan.instruction_views, plan.instruction_targets
            )
        with _step("redis"):
            results["redis"] = redis_work.run(world, plan.redis_views)
        with _step("dpop"):
            results["dpop"] = dpop.run(results["overhead"], plan)
        with _step("floods"):
            results["floods"] = floods.run(world, plan.flood_requests)
        with _step("scale"):
            results["scale"] = scale.run(world, plan)
        with _step("storm world"):
            storm_world = storm.build(stack, plan)
        with _step("sign-in"):
            results["signin"] = signin.run(storm_world.apps[0], storm_world.sandbox, plan.signins)
        with _step("storm"):
            results["storm"] = storm.run(storm_world, plan)
    results["meta"]["seconds"] = time.monotonic() - started
    return results


def profile_both(world: World, plan: Plan) -> dict[str, Any]:
    """Profile the app and the baseline in this process, against the same Redis and upstream."""
    from app import create_app

    app = create_app(world.app_env)
    baseline = create_baseline(
        {
            "REDIS_URL": world.app_redis.url,
            "SECRET_KEY": world.app_env["SECRET_KEY"],
            "AA_API_URL": world.upstream.url,
            "AA_AUTH_URL": world.sandbox.url,
        }
    )
    return profile.profile_pair(app, baseline, PAGE, world.app.cookie, plan.profile_requests)


@contextmanager
def _step(name: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"bench: {name}…", file=sys.stderr, flush=True)
    yield
    print(f"bench: {name} done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Instructions per signed-in page view: a count that a loaded machine does not change.

CPU time on a shared 2-core machine moves by ±15 % between runs; the number of instructions a
page view executes moves by a fraction of a per cent, so a change of a few per cent can be
judged from one run. ``bench/inprocess.py`` serves the page in-process, calling the WSGI app as
a server would, under valgrind's callgrind; callgrind zeroes its counters when the measured
views begin and dumps them when they end, so start-up and warm-up are left out (and run
uninstrumented, many times faster). The count is
the page's own work in Python and C (Flask, Jinja, redis-py, urllib3, cryptography) with the
user-space side of its socket calls; not gunicorn's, not the kernel's, not the time spent
waiting.

    .venv/bin/python -m bench.instructions          # the app (Bearer, DPoP), baseline, floor
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.services import ROOT, Stack
from bench.world import World, build_world

VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
VIEWS = 40


def count(
    target: str, env: dict[str, str], cookie: str, views: int = VIEWS, cwd: Path = ROOT
) -> float:
    """Return the instructions one view of ``target`` executes, over ``views`` views.

    ``target`` is ``app`` (the checkout in ``cwd``), ``baseline`` or ``floor``.
    """
    given = json.dumps(
        {"env": env, "cookie": cookie, "views": views, "target": target, "measure": "instructions"}
    )
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            VALGRIND,
            "--tool=callgrind",
            "--instr-atstart=no",  # bench/inprocess.py turns it on after the warm-up
            f"--callgrind-out-file={out}",
            "--zero-before=sys_getallocatedblocks",
            "--dump-before=sys_getswitchinterval",
            sys.executable,
            "-P",
            str(ROOT / "bench" / "inprocess.py"),
        ]
        # The same hashes in every run: dict and set layouts then do not move the count.
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        answer = subprocess.run(  # noqa: S603 - valgrind, our own interpreter and script
            command,
            cwd=cwd,
            input=given,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if answer.returncode:
            raise SystemExit(f"{target} under callgrind failed in {cwd}:\n{answer.stderr[-3000:]}")
        dumped = Path(f"{out}.1")  # the dump at the end of the measured views
        summary = next(
            line for line in dumped.read_text().splitlines() if line.startswith("summary:")
        )
    return int(summary.split()[1]) / views


def run(world: World, views: int = VIEWS, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Count the app with Bearer and with DPoP-bound tokens, the baseline and the floor.

    ``only`` names the ones to count (``app``, ``app_dpop``, ``baseline``, ``floor``): all
    of them when empty.
    """
    names = only or ("app", "app_dpop", "baseline", "floor")
    jobs = [_job(world, name) for name in names]
    with ThreadPoolExecutor(2) as pool:  # one count per core: the counts do not mind
        counted = list(pool.map(lambda job: count(job[0], job[1], job[2], views), jobs))
    return {"views": views, "per_view": dict(zip(names, counted, strict=True))}


def _job(world: World, name: str) -> tuple[str, dict[str, str], str]:
    """Return what ``count`` is given for ``name``: the target, its settings, its cookie."""
    if name == "app_dpop":
        dpop = world.app_dpop()
        return "app", {**world.app_env, **dpop.service.env}, dpop.cookie
    return name, world.app_env, world.app.cookie


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--views", type=int, default=VIEWS)
    args = parser.parse_args(argv)
    with Stack() as stack:
        counted = run(build_world(stack), args.views)["per_view"]
    for name, per_view in counted.items():
        ratio = per_view / counted["floor"]
        print(f"{name:>10}  {per_view / 1e6:7.3f} M instructions per view  {ratio:.2f}× the floor")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

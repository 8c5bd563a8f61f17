"""CPU, Python calls or instructions per signed-in page, in this process, for the cwd's checkout.

Run by ``bench/versus.py`` and ``bench/instructions.py`` as ``python -P bench/inprocess.py``
(``-P``: bench/ must not come first on the path, where profile.py would shadow the standard
library's), with the working directory set to the checkout under test so that ``import app``
loads that checkout's app. Settings, the signed-in cookie and what to measure arrive as JSON on
stdin, the result leaves as JSON on stdout. Only the page's request handling is counted (no
gunicorn, no sockets to the client): what a change costs in the code itself, apart from the
serving path.

``"measure": "instructions"`` expects to run under valgrind's callgrind with instrumentation
off (``bench/instructions.py`` starts it so): after the warm-up it turns instrumentation on,
then serves the views between two markers at which callgrind zeroes its counters and dumps
them. The count is then of those views alone, start-up and warm-up left out.
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

PAGE = "/flight-reports"
WARM_UP = 50
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def main() -> None:
    sys.path.insert(0, os.getcwd())  # the checkout under test
    given = json.load(sys.stdin)
    target = build(given.get("target", "app"), given["env"])
    views = int(given["views"])
    view = one_view(target, given["cookie"])
    for _ in range(WARM_UP):  # compiled templates, pools and caches
        view()
    if given.get("measure") == "instructions":
        # Start-up and warm-up ran uninstrumented, many times faster.
        control = [shutil.which("callgrind_control") or "callgrind_control", "-i", "on"]
        subprocess.run([*control, str(os.getpid())], check=True, capture_output=True)  # noqa: S603
        # A full collection over everything start-up made would land in some runs and not
        # others: collect now, and leave what exists out of later collections.
        gc.collect()
        gc.freeze()
        sys.getallocatedblocks()  # callgrind zeroes its counters here
        for _ in range(views):
            view()
        sys.getswitchinterval()  # and dumps them here
        json.dump({"views": views}, sys.stdout)
        return
    started = time.process_time()
    for _ in range(views):
        view()
    cpu = time.process_time() - started
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(views):
        view()
    profiler.disable()
    calls = sum(row[1] for row in pstats.Stats(profiler).stats.values())  # type: ignore[attr-defined]
    json.dump({"cpu_us_per_page": cpu * 1e6 / views, "calls_per_page": calls / views}, sys.stdout)


def build(target: str, env: dict[str, str]) -> Wsgi:
    """Return the app, the same-I/O baseline or the floor, built from the same settings."""
    if target == "app":
        from app import create_app

        return create_app(env)
    if target == "baseline":
        from bench.baseline import create_baseline

        return create_baseline(env)
    from bench.floor import create_floor

    return create_floor(env)


def one_view(app: Wsgi, cookie: str) -> Callable[[], None]:
    """Return a call that serves the page once, as a WSGI server would, and checks it."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(PAGE, headers=[("Cookie", cookie)]).get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    def view() -> None:
        statuses.clear()
        answer = app(dict(environ), start_response)
        try:
            b"".join(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        if statuses != ["200 OK"]:
            raise SystemExit(f"{PAGE} answered {statuses}: is the cookie signed in?")

    return view


if __name__ == "__main__":
    main()

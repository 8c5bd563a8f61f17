"""CPU and Python calls per signed-in page, in this process, for whichever checkout is the cwd.

Run by ``bench/versus.py`` as ``python -P bench/inprocess.py`` (``-P``: bench/ must not come first
on the path, where profile.py would shadow the standard library's), once per checkout and round,
with the working directory set to the checkout under test so that ``import app`` loads that
checkout's app. Settings and the signed-in cookie arrive as JSON on stdin, the result leaves as
JSON on stdout. Only the app's request handling is counted (no gunicorn, no sockets to the
client): what a change costs in the code itself, apart from the serving path.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import time

PAGE = "/flight-reports"
WARM_UP = 50


def main() -> None:
    sys.path.insert(0, os.getcwd())  # the checkout under test
    from app import create_app

    given = json.load(sys.stdin)
    client = create_app(given["env"]).test_client()
    name, _, value = given["cookie"].partition("=")
    client.set_cookie(name, value)
    views = int(given["views"])
    for _ in range(WARM_UP):  # compiled templates, pools and caches
        if client.get(PAGE).status_code != 200:
            raise SystemExit(f"{PAGE} did not answer 200: is the cookie signed in?")
    started = time.process_time()
    for _ in range(views):
        client.get(PAGE)
    cpu = time.process_time() - started
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(views):
        client.get(PAGE)
    profiler.disable()
    calls = sum(row[1] for row in pstats.Stats(profiler).stats.values())  # type: ignore[attr-defined]
    json.dump({"cpu_us_per_page": cpu * 1e6 / views, "calls_per_page": calls / views}, sys.stdout)


if __name__ == "__main__":
    main()

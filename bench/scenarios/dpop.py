"""What DPoP costs a signed-in page: the app with DPoP-bound tokens against the app without.

Both instances are the app with the same settings but AA_DPOP, against the same Redis and the
same upstream, measured one after the other at each concurrency by the overhead scenario. With
DPoP every API call carries a fresh ES256-signed proof (RFC 9449); the upstream does not check
it, so the difference is the client's cost alone. Since a page view under wrk moves by ±15 %
between runs on a shared machine, proofs are also timed one by one in this process, as the app
builds them for the page's API call: the median of many is what one proof costs.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.plan import Plan
from flask_altitudeangel._dpop import DPoPKey, ServerHints

PROOFS = 4000


def run(overhead: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Return the page's CPU with and without DPoP, and one proof's, from ``overhead``'s runs."""
    result: dict[str, Any] = {"proof_cpu_us": proof_cpu_us(PROOFS // 20 if plan.smoke else PROOFS)}
    for connections, bearer_runs in overhead["app"].items():
        dpop_runs = overhead["app_dpop"][connections]["rounds"]
        bearer = [r["cpu_us_per_request"] for r in bearer_runs["rounds"]]
        dpop = [r["cpu_us_per_request"] for r in dpop_runs]
        result[connections] = {
            "bearer_us": statistics.median(bearer),
            "dpop_us": statistics.median(dpop),
            "ratio": statistics.median(d / b for d, b in zip(dpop, bearer, strict=True)),
        }
    return result


def proof_cpu_us(count: int) -> float:
    """CPU microseconds of one proof for an API call, as the app makes one for every call:
    the median over ``count`` proofs, each timed on its own."""
    key, hints = DPoPKey.generate(), ServerHints()
    token = "x" * 828  # the sandbox's access tokens are about this long
    url = "https://api.example.test/flightReport?page=1&per_page=20"
    key.proof("GET", url, token, hints)  # warm: imports and caches
    clock = time.thread_time_ns
    spent = []
    for _ in range(count):
        started = clock()
        key.proof("GET", url, token, hints)
        spent.append(clock() - started)
    return statistics.median(spent) / 1000

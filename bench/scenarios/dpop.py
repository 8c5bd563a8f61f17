"""What DPoP costs a signed-in page: the app with DPoP-bound tokens against the app without.

Both instances are the app with the same settings but AA_DPOP, against the same Redis and the
same upstream, measured alternately at each concurrency. With DPoP every API call carries a
fresh ES256-signed proof (RFC 9449); the upstream does not check it, so the difference is the
client's cost alone. Since a page view under wrk moves by ±15 % between runs on a shared
machine, one proof is also timed on its own, in this process (CPU time over many proofs).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import load
from bench.plan import Plan
from bench.scenarios.overhead import measure
from bench.world import SignedIn, World, signed_in_cookie
from flask_altitudeangel._dpop import DPoPKey, ServerHints

CONNECTIONS = (1, 8)
PROOFS = 2000


def run(world: World, plan: Plan) -> dict[str, Any]:
    bound = world.start_app(AA_DPOP="1")
    with_dpop = SignedIn(bound, signed_in_cookie(bound))
    targets = {"bearer": world.app, "dpop": with_dpop}
    if not plan.smoke:
        for target in targets.values():
            load.wrk(target.page, 8, 1, target.cookie)
    runs: dict[str, dict[int, list[float]]] = {name: {} for name in targets}
    for _ in range(plan.rounds):
        for connections in CONNECTIONS:
            for name, target in targets.items():
                one = measure(world, target, connections, plan.seconds)
                runs[name].setdefault(connections, []).append(one["cpu_us_per_request"])
    bound.stop()
    result: dict[str, Any] = {"proof_cpu_us": proof_cpu_us(PROOFS // 20 if plan.smoke else PROOFS)}
    for connections in CONNECTIONS:
        bearer = statistics.median(runs["bearer"][connections])
        dpop = statistics.median(runs["dpop"][connections])
        pairs = zip(runs["dpop"][connections], runs["bearer"][connections], strict=True)
        ratio = statistics.median(d / b for d, b in pairs)
        result[str(connections)] = {"bearer_us": bearer, "dpop_us": dpop, "ratio": ratio}
    return result


def proof_cpu_us(count: int) -> float:
    """CPU microseconds to build one proof for an API call, as the app does for every call."""
    key, hints = DPoPKey.generate(), ServerHints()
    token = "x" * 828  # the sandbox's access tokens are about this long
    url = "https://api.example.test/flightReport?page=1&per_page=20"
    key.proof("GET", url, token, hints)  # warm: imports and caches
    started = time.process_time()
    for _ in range(count):
        key.proof("GET", url, token, hints)
    return (time.process_time() - started) / count * 1e6

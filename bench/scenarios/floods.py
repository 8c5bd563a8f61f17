"""What anonymous traffic leaves in Redis: floods of /login, and anonymous pages.

An app of its own on an empty Redis, behind one (pretend) proxy so each request can come from
its own address. Reported: Redis bytes per anonymous /login, and what a flood leaves behind
after ten minutes (the keys whose TTL outlasts ten minutes, which must be none).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import requests

from altitudeangel_sandbox.processes import ServiceProcess
from bench.world import World

TEN_MINUTES = 600
CLIENTS = 8


def run(world: World, requests_count: int) -> dict[str, Any]:
    server = world.stack.redis()
    env = {"REDIS_URL": server.url, "TRUST_PROXY": "1"}
    limited = world.start_app(**env, LOGIN_RATE_LIMIT="20 per minute")
    db = server.client()
    return {
        "anonymous_pages": flood(limited, db, "/flight-reports/new", requests_count // 10, True),
        "one_address": flood(limited, db, "/login", requests_count, False),
        "many_addresses": flood(limited, db, "/login", requests_count, True),
    }


def flood(
    service: ServiceProcess, db: redis.Redis, path: str, count: int, spread: bool
) -> dict[str, Any]:
    """Send ``count`` cookie-less GETs of ``path``; measure what they leave in Redis."""
    db.flushdb()
    before = db.info("memory")["used_memory"]

    def one(i: int) -> int:
        address = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" if spread else "203.0.113.1"
        answer = requests.get(
            service.url + path,
            headers={"X-Forwarded-For": address},
            allow_redirects=False,
            timeout=10,
        )
        return answer.status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(one, range(count)))
    keys = list(db.scan_iter(count=1000))
    sizes = {key: int(db.memory_usage(key, samples=0) or 0) for key in keys}
    ttls = {key: int(db.ttl(key)) for key in keys}
    left = [key for key, ttl in ttls.items() if ttl < 0 or ttl > TEN_MINUTES]
    return {
        "requests": count,
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "keys": len(keys),
        "key_bytes": sum(sizes.values()),
        "used_memory_delta": db.info("memory")["used_memory"] - before,
        "bytes_per_request": sum(sizes.values()) / count,
        "largest_key_bytes": max(sizes.values(), default=0),
        "longest_ttl": max(ttls.values(), default=0),
        "left_after_ten_minutes": {"keys": len(left), "bytes": sum(sizes[k] for k in left)},
        "kinds": _kinds(keys, sizes),
    }


def _kinds(keys: list[bytes], sizes: dict[bytes, int]) -> dict[str, dict[str, int]]:
    kinds: dict[str, dict[str, int]] = {}
    for key in keys:
        kind = key.decode().split(":")[1] if b":" in key else key.decode()
        entry = kinds.setdefault(kind, {"keys": 0, "bytes": 0})
        entry["keys"] += 1
        entry["bytes"] += sizes[key]
    return kinds

"""Redis work per page view, from Redis's own counters, and Redis memory per signed-in user.

With the flow trace off (the default away from the sandbox) and on. The counters are
server-wide, so nothing else may use this Redis meanwhile: the app has one of its own.
"""

from __future__ import annotations

from typing import Any

import msgspec
import redis
import requests

from altitudeangel_sandbox.processes import RedisServer, ServiceProcess
from altitudeangel_sandbox.testing import sign_in_over_http
from bench import flows
from bench.world import PAGE, World
from portal.sessions import session_key

READS = {"get", "mget", "hget", "hmget", "hgetall", "lrange", "exists", "ttl", "llen"}
WRITES = {"set", "setex", "hset", "expire", "pexpire", "rpush", "ltrim", "del", "unlink", "evalsha"}
WRITES |= {"eval"}  # a durable save: its script goes in a pipeline with WAIT
IGNORED = {"info", "config", "memory", "ping", "client", "hello", "keys", "scan", "select"}
IGNORED |= {"replconf"}  # a replica's acknowledgements, where the primary has one


def run(world: World, views: int) -> dict[str, Any]:
    trace_on = world.start_app(FLOW_TRACE="1")
    assert world.peer_redis is not None
    return {
        "trace_off": measure(world.app.service, world.app_redis, views, "portal"),
        "trace_on": measure(trace_on, world.app_redis, views, "portal"),
        "peer": measure(world.peer.service, world.peer_redis, views, "peer"),
    }


def measure(service: ServiceProcess, server: RedisServer, views: int, kind: str) -> dict[str, Any]:
    """Sign in afresh; count Redis work of the first page view, then of ``views`` more."""
    db = server.client()
    browser = sign_in_over_http(service.url)
    overhead = _delta(db, lambda: None)  # what reading the counters itself costs
    first = _delta(db, lambda: _views(browser, service, 1), overhead)
    steady = _delta(db, lambda: _views(browser, service, views), overhead)
    return {
        "first_view": first,
        "per_view": _per(steady, views),
        "memory": memory(db, flows.cookie_header(browser).split("=", 1)[1], kind),
    }


def _views(browser: requests.Session, service: ServiceProcess, count: int) -> None:
    for _ in range(count):
        answer = browser.get(service.url + PAGE, allow_redirects=False, timeout=10)
        if answer.status_code != 200:
            raise RuntimeError(f"{service.url}{PAGE} answered {answer.status_code}")


def _counters(db: redis.Redis) -> dict[str, float]:
    stats = db.info("stats")
    counts: dict[str, float] = {
        "bytes_to_redis": stats["total_net_input_bytes"],
        "bytes_from_redis": stats["total_net_output_bytes"],
    }
    for name, value in db.info("commandstats").items():
        command = name.removeprefix("cmdstat_").lower()
        if command not in IGNORED:
            counts[command] = value["calls"]
    return counts


def _delta(
    db: redis.Redis, action: Any, overhead: dict[str, float] | None = None
) -> dict[str, Any]:
    before = _counters(db)
    action()
    after = _counters(db)
    delta = {k: v - before.get(k, 0) - (overhead or {}).get(k, 0) for k, v in after.items()}
    commands = {k: v for k, v in delta.items() if not k.startswith("bytes") and v}
    return {
        "commands": commands,
        "reads": sum(v for k, v in commands.items() if k in READS),
        "writes": sum(v for k, v in commands.items() if k in WRITES),
        "bytes_to_redis": delta["bytes_to_redis"],
        "bytes_from_redis": delta["bytes_from_redis"],
    }


def _per(total: dict[str, Any], views: int) -> dict[str, Any]:
    return {
        "commands": {k: v / views for k, v in total["commands"].items()},
        **{k: total[k] / views for k in ("reads", "writes", "bytes_to_redis", "bytes_from_redis")},
    }


def memory(db: redis.Redis, sid: str, kind: str) -> dict[str, int]:
    """Return MEMORY USAGE of each key one signed-in user has."""
    if kind == "peer":
        return {"session (token inside)": int(db.memory_usage(f"session:{sid}", samples=0) or 0)}
    session = session_key("portal:session:", sid)
    login_id = msgspec.json.decode(db.get(session) or b"{}")["altitudeangel"]["login"]
    keys = {
        "session": session,
        "tokens": f"portal:login:{{{login_id}}}:tokens",
        "trace": f"portal:login:{{{login_id}}}:trace",
    }
    return {name: int(db.memory_usage(key, samples=0) or 0) for name, key in keys.items()}

"""Fault injection: failures queued in Redis, each consumed by exactly one matching request."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from flask import Response, g, jsonify

from altitudeangel_sandbox.store import key

COMMON_KINDS = {"error500", "error503", "error429", "hang", "drip"}
KINDS = {
    "token": COMMON_KINDS | {"invalid_grant", "late_invalid_grant"},
    "api": COMMON_KINDS | {"invalid_token", "insufficient_scope", "forbidden"},
    "revoke": COMMON_KINDS,
    "userinfo": COMMON_KINDS,
}
MAX_COUNT = 1000
MAX_HANG_SECONDS = 300
MIN_DRIP_INTERVAL = 0.01
MAX_DRIP_INTERVAL = 5.0
QUEUE_TTL = 3600


@dataclass(frozen=True)
class Fault:
    """One queued failure: its kind, how long a hang or drip lasts, a drip's byte interval."""

    kind: str
    seconds: float = 30
    interval: float = 1.0


class Faults:
    """The fault queues, one per target; empty and inert unless fault injection is on."""

    def __init__(self, db: redis.Redis, enabled: bool):
        self._db = db
        self.enabled = enabled

    def add(self, target: str, fault: Fault, count: int) -> None:
        """Queue ``count`` copies of ``fault`` for ``target``."""
        name = key("faults", target)
        record = json.dumps(
            {"kind": fault.kind, "seconds": fault.seconds, "interval": fault.interval}
        )
        with self._db.pipeline() as pipe:
            pipe.rpush(name, *([record] * count))
            pipe.expire(name, QUEUE_TTL)
            pipe.execute()

    def clear(self) -> None:
        """Drop every queued fault."""
        self._db.delete(*(key("faults", target) for target in KINDS))

    def pending(self) -> dict[str, list[dict[str, object]]]:
        """Return the queued faults per target."""
        return {
            target: [json.loads(item) for item in self._db.lrange(key("faults", target), 0, -1)]
            for target in KINDS
        }

    def take(self, target: str) -> Fault | None:
        """Pop the next fault for ``target``; LPOP is atomic across threads and processes."""
        if not self.enabled:
            return None
        record = self._db.lpop(key("faults", target))
        if record is None:
            return None
        data = json.loads(str(record))
        return Fault(str(data["kind"]), float(data["seconds"]), float(data.get("interval", 1.0)))

    def take_unless_drip(self, target: str) -> Fault | None:
        """Pop the next fault; a drip is only noted, for the real answer to be dripped later."""
        fault = self.take(target)
        if fault is not None and fault.kind == "drip":
            g.drip_fault = fault
            return None
        return fault


def _dripped(body: bytes, steps: int, interval: float) -> Iterator[bytes]:
    yield b" "  # the status and headers go out now, with the first byte
    for _ in range(steps - 1):
        time.sleep(interval)
        yield b" "
    time.sleep(interval)
    yield body


def drip_if_noted(response: Response) -> Response:
    """Send a noted drip's answer as leading JSON whitespace, a byte an interval, then the body."""
    fault: Fault | None = g.pop("drip_fault", None)
    if fault is None:
        return response
    body = response.get_data()
    steps = math.ceil(fault.seconds / fault.interval)
    if steps == 0:
        return response
    response.response = _dripped(body, steps, fault.interval)
    response.headers["Content-Length"] = str(steps + len(body))
    return response


def _error(status: int, error: str, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def fault_response(fault: Fault, needed_scope: str = "") -> Response:
    """Play ``fault``: answer as the failure would, without processing the request."""
    if fault.kind == "hang":
        time.sleep(fault.seconds)
        return _error(503, "temporarily_unavailable", "Injected fault: the server hung.")
    if fault.kind == "error500":
        return _error(500, "server_error", "Injected fault: internal server error.")
    if fault.kind == "error503":
        return _error(503, "temporarily_unavailable", "Injected fault: service unavailable.")
    if fault.kind == "error429":
        response = _error(429, "too_many_requests", "Injected fault: slow down.")
        response.headers["Retry-After"] = "2"
        return response
    if fault.kind in ("invalid_grant", "late_invalid_grant"):
        if fault.kind == "late_invalid_grant":  # a refusal that arrives after `seconds`
            time.sleep(fault.seconds)
        return _error(400, "invalid_grant", "Injected fault: the grant is invalid.")
    if fault.kind == "forbidden":
        # A permissions answer about the user, not the token: no WWW-Authenticate error.
        return _error(403, "forbidden", "Injected fault: this account may not do that.")
    if fault.kind == "invalid_token":
        response = _error(401, "invalid_token", "Injected fault: the token is invalid.")
        response.headers["WWW-Authenticate"] = (
            'Bearer error="invalid_token", error_description="Injected fault"'
        )
        return response
    response = _error(401, "insufficient_scope", "Injected fault: more scope is needed.")
    response.headers["WWW-Authenticate"] = (
        f'Bearer error="insufficient_scope", scope="{needed_scope}"'
    )
    return response

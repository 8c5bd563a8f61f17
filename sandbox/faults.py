"""Fault injection: failures queued in Redis, each consumed by exactly one matching request."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis
from flask import Response, jsonify

from sandbox.store import key

COMMON_KINDS = {"error500", "error503", "error429", "hang"}
KINDS = {
    "token": COMMON_KINDS | {"invalid_grant"},
    "api": COMMON_KINDS | {"invalid_token", "insufficient_scope"},
    "revoke": COMMON_KINDS,
    "userinfo": COMMON_KINDS,
}
MAX_COUNT = 1000
MAX_HANG_SECONDS = 300
QUEUE_TTL = 3600


@dataclass(frozen=True)
class Fault:
    """One queued failure: its kind and, for a hang, how long to stall."""

    kind: str
    seconds: float = 30


class Faults:
    """The fault queues, one per target; empty and inert unless fault injection is on."""

    def __init__(self, db: redis.Redis, enabled: bool):
        self._db = db
        self.enabled = enabled

    def add(self, target: str, fault: Fault, count: int) -> None:
        """Queue ``count`` copies of ``fault`` for ``target``."""
        name = key("faults", target)
        record = json.dumps({"kind": fault.kind, "seconds": fault.seconds})
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
        return Fault(kind=str(data["kind"]), seconds=float(data["seconds"]))


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
    if fault.kind == "invalid_grant":
        return _error(400, "invalid_grant", "Injected fault: the grant is invalid.")
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

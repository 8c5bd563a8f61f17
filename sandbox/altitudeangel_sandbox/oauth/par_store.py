"""Pushed authorization requests (RFC 9126): stored briefly, bound to a client, used once."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import redis

from altitudeangel_sandbox.store import digest, key

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


@dataclass(frozen=True)
class PushedRequest:
    """The parameters a client pushed, and who pushed them."""

    request_uri: str
    client_id: str
    params: dict[str, str]


def _key(request_uri: str) -> str:
    return key("pushed-request", digest(request_uri))


class PushedRequests:
    """Store, look up and spend pushed authorization requests."""

    def __init__(self, db: redis.Redis, ttl: int):
        self._db = db
        self.ttl = ttl

    def push(self, client_id: str, params: dict[str, str]) -> str:
        """Store the client's authorization request; return the request_uri that names it."""
        request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
        record = json.dumps({"client_id": client_id, "params": params})
        self._db.set(_key(request_uri), record, ex=self.ttl)
        return request_uri

    def find(self, request_uri: str, client_id: str | None) -> PushedRequest | None:
        """Return the live request if ``client_id`` pushed it; None if unknown, spent or theirs."""
        record = self._db.get(_key(request_uri))
        if record is None:
            return None
        data = json.loads(str(record))
        if data["client_id"] != client_id:
            return None
        return PushedRequest(request_uri, data["client_id"], dict(data["params"]))

    def spend(self, pushed: PushedRequest) -> bool:
        """Use the request up; return False if another request used it first."""
        # DEL is atomic: of two concurrent completions exactly one removes the key.
        return bool(self._db.delete(_key(pushed.request_uri)))

"""Whether an app can serve sign-ins now: its Redis answers and the server's endpoints are known."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from flask import Flask, current_app
from redis.exceptions import RedisError

from flask_altitudeangel import AltitudeAngel


class Readiness:
    """What ``/readyz`` reports for each app, bound with ``init_app`` like the other extensions."""

    def __init__(self, aa: AltitudeAngel) -> None:
        self._aa = aa
        self._redis: WeakKeyDictionary[Flask, Any] = WeakKeyDictionary()

    def init_app(self, app: Flask, redis: Any) -> None:
        """Ask ``redis``, the app's sessions, tokens and rate limits, whether it answers."""
        self._redis[app] = redis

    def redis_of(self, app: Flask) -> Any:
        """The Redis client ``app`` was bound to."""
        return self._redis[app]

    def problems(self) -> list[str]:
        """Say, a sentence each, what keeps the current app from serving sign-ins; empty if none."""
        problems = []
        try:
            self.redis_of(current_app._get_current_object()).ping()  # type: ignore[attr-defined]
        except RedisError as error:
            problems.append(f"Redis did not answer ({type(error).__name__})")
        return problems + self._aa.readiness_problems()

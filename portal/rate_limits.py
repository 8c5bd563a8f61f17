"""A per-address limit on starting and finishing a sign-in, counted in the app's Redis.

Each of those requests writes to Redis (a pending sign-in, a spent state) and costs the
authorization server a page, so one address may make only so many a minute. Built on the
``limits`` library (the engine of Flask-Limiter) and the extension's ``before_sign_in``
signal, which asks before /login and /callback do anything: Flask-Limiter's own extension
checks every request of the app in a hook, about a hundred function calls on every page for
limits that only two routes have.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError
from werkzeug.exceptions import TooManyRequests

from flask_altitudeangel import signals

log = logging.getLogger(__name__)


class SignInsTooFast(TooManyRequests):
    """Too many sign-ins from one address in the current window."""


class SignInRateLimit:
    """Allow each client address ``rate`` (e.g. "20 per minute") of each sign-in step."""

    def __init__(self, storage_uri: str, options: dict[str, Any], rate: str) -> None:
        self._limiter = FixedWindowRateLimiter(storage_from_string(storage_uri, **options))
        self._rate = parse(rate)

    def init_app(self, app: Flask) -> None:
        """Check every sign-in step of ``app`` (its start at /login, its end at /callback)."""
        # Held strongly by the signal, for as long as the app lives.
        signals.before_sign_in.connect(self.check, sender=app, weak=False)

    def check(self, app: Flask, step: str, **extra: Any) -> None:
        """Refuse the step with SignInsTooFast (a 429) once this address has had its share."""
        # The client's address as ProxyFix reports it behind TRUST_PROXY proxies.
        address = request.remote_addr or "unknown"
        try:
            # Counted under the endpoint's name, as before the limit moved to the signal.
            allowed = self._limiter.hit(self._rate, str(request.endpoint), address)
        except RedisError:
            allowed = True  # the request meets the same failure where the app handles it
        if not allowed:
            raise SignInsTooFast()

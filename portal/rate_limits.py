"""A per-address limit on starting and finishing a sign-in, counted in the app's Redis.

Each of those requests writes to Redis (a pending sign-in, a spent state) and costs the
authorization server a page, so one address may make only so many a minute. Built on the
``limits`` library (the engine of Flask-Limiter) as a decorator of the two views alone:
Flask-Limiter's own extension checks every request of the app in a hook, about a hundred
function calls on every page for limits that only two routes have.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError
from werkzeug.exceptions import TooManyRequests

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class SignInsTooFast(TooManyRequests):
    """Too many sign-ins from one address in the current window."""


class SignInRateLimit:
    """Allow each client address ``rate`` (e.g. "20 per minute") requests of each wrapped view."""

    def __init__(self, storage_uri: str, options: dict[str, Any], rate: str) -> None:
        self._limiter = FixedWindowRateLimiter(storage_from_string(storage_uri, **options))
        self._rate = parse(rate)

    def __call__(self, view: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(view)
        def limited(*args: P.args, **kwargs: P.kwargs) -> T:
            # The client's address as ProxyFix reports it behind TRUST_PROXY proxies.
            address = request.remote_addr or "unknown"
            try:
                allowed = self._limiter.hit(self._rate, str(request.endpoint), address)
            except RedisError:
                allowed = True  # the request meets the same failure where the app handles it
            if not allowed:
                raise SignInsTooFast()
            return view(*args, **kwargs)

        return limited

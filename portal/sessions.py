"""Flask-Session on Redis, hardened: JSON only (never pickle), Redis failures made explicit,
a Redis Cluster client accepted, sessions stored under a hash of their id, and a __Host-
cookie that sign-out really removes.

Everything here goes through Flask-Session's public interface (its constructor, ``client``,
``serializer``, ``key_prefix``, ``open_session``, ``save_session``) and one private method,
``_get_store_id``, through which it names every key. What it relies on in the pinned version
is checked by tests/portal/test_sessions_pin.py.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

import msgspec
import redis
from flask import Flask, Request, Response, g
from flask_session.base import ServerSideSession
from flask_session.redis import RedisSessionInterface
from redis.exceptions import RedisError

from portal import metrics

log = logging.getLogger(__name__)


class JsonOnly:
    """Session data as JSON; anything else in the store is no session, and is never unpickled.

    Flask-Session 0.8 falls back to ``pickle.loads`` on data it cannot decode, which turns
    write access to Redis into code execution in the app.
    """

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(dict)

    def encode(self, session: ServerSideSession) -> bytes:
        return self._encoder.encode(dict(session))

    def decode(self, serialized_data: bytes) -> dict[Any, Any] | None:
        """Decode a stored session; None (a fresh session id) for anything that is not JSON."""
        try:
            return self._decoder.decode(serialized_data)
        except msgspec.DecodeError:
            log.warning("event=session_refused reason=undecodable")
            return None


def session_key(key_prefix: str, sid: str) -> str:
    """Name the Redis key of session ``sid``: the SHA-256 of the id, never the id itself.

    The cookie's value is the id: a key named after it would hand a working session to anyone
    who reads Redis, a replica or a backup (Rack's fix for CVE-2019-16782 does the same). An
    id holds 256 random bits, so an unsalted hash cannot be reversed by guessing.
    """
    return key_prefix + hashlib.sha256(sid.encode()).hexdigest()


def _vary_on_cookie(response: Response) -> None:
    """``response.vary.add("Cookie")``, without parsing a Vary header the response has not got.

    The headers are looked through once: asking ``"Vary" in headers`` raises and catches a
    KeyError when it is not there, and setting it would look through them all again.
    """
    headers = response.headers
    for name, _ in headers:
        if name.lower() == "vary":
            response.vary.add("Cookie")
            return
    headers.add("Vary", "Cookie")  # as setting it: at the end, the only one


class SessionStoreUnavailable(Exception):
    """Redis could not be reached (or answered too slowly) for the session."""


class RedisSessions(RedisSessionInterface):
    """Server-side sessions in Redis (a single node or a cluster), JSON only."""

    def __init__(self, app: Flask, client: Any, key_prefix: str) -> None:
        # Flask-Session accepts only a redis.Redis and would replace a RedisCluster client
        # with a default one; give it a stand-in it never connects, then the real client.
        stand_in = client if isinstance(client, redis.Redis) else redis.Redis()
        super().__init__(
            app, stand_in, key_prefix=key_prefix, permanent=True, serialization_format="json"
        )
        self.client = client
        self.serializer = JsonOnly()

    def _get_store_id(self, sid: str) -> str:
        return session_key(self.key_prefix, sid)

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        try:
            return super().open_session(app, request)
        except RedisError:
            metrics.REDIS_ERRORS.inc()
            g.session_store_down = True
            return self.session_class(sid=secrets.token_urlsafe(self.sid_length), permanent=True)

    def save_session(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        if g._get_current_object().get("session_store_down"):  # g itself: once, not by proxy
            return
        if session and not self.should_set_storage(app, session):
            # Nothing to write, as on most pages: all Flask-Session does then, without first
            # naming the cookie and hashing the session id for a key it does not use.
            if session.accessed:
                _vary_on_cookie(response)
            return
        try:
            if not session:
                if session.modified:
                    self._end(app, session, response)
                return
            super().save_session(app, session, response)
        except RedisError:
            metrics.REDIS_ERRORS.inc()
            log.error("event=session_save_failed")

    def _end(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        """Delete an emptied session and expire its cookie with the attributes it was set with.

        Flask-Session expires the cookie without ``Secure``, which a browser ignores for a
        ``__Host-`` cookie: the user would keep the cookie of a session that is gone.
        """
        self.client.delete(self._get_store_id(session.sid))
        response.delete_cookie(
            self.get_cookie_name(app),
            path=self.get_cookie_path(app),
            domain=self.get_cookie_domain(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")

"""Flask-Session on Redis, hardened: JSON only (never pickle) and Redis failures made explicit."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from flask import Flask, Request, Response, g
from flask_session.base import Serializer, ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from redis.exceptions import RedisError

from portal import metrics

log = logging.getLogger(__name__)


class JsonSerializer(Serializer):
    """Session data as JSON; anything else in the store is refused, never unpickled.

    Flask-Session 0.8 falls back to ``pickle.loads`` on data it cannot decode, which turns
    write access to Redis into code execution in the app.
    """

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(dict)

    def encode(self, session: ServerSideSession) -> bytes:
        return self._encoder.encode(dict(session))

    def decode(self, serialized_data: bytes) -> dict[Any, Any]:
        return self._decoder.decode(serialized_data)


class SessionStoreUnavailable(Exception):
    """Redis could not be reached (or answered too slowly) for the session."""


class PortalSessionInterface(RedisSessionInterface):
    """Server-side sessions in Redis with a JSON serializer and no silent fallbacks."""

    def __init__(self, app: Flask, client: Any, key_prefix: str) -> None:
        # RedisSessionInterface.__init__ rejects a RedisCluster client; set it ourselves.
        self.client = client
        ServerSideSessionInterface.__init__(
            self, app, key_prefix=key_prefix, permanent=True, serialization_format="json"
        )
        self.serializer = JsonSerializer()

    def _retrieve_session_data(self, store_id: str) -> dict[Any, Any] | None:
        data = self.client.get(store_id)
        if not data:
            return None
        try:
            return self.serializer.decode(data)
        except msgspec.DecodeError:
            log.warning("event=session_refused reason=undecodable")
            return None  # treated as an unknown session: a fresh id is issued

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        try:
            return super().open_session(app, request)
        except RedisError:
            metrics.REDIS_ERRORS.inc()
            g.session_store_down = True
            return self.session_class(sid=self._generate_sid(self.sid_length), permanent=True)

    def save_session(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        if g.get("session_store_down"):
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
        self.client.delete(self.key_prefix + session.sid)
        response.delete_cookie(
            self.get_cookie_name(app),
            path=self.get_cookie_path(app),
            domain=self.get_cookie_domain(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")

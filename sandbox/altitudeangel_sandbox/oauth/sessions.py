"""The sandbox's own browser sessions: their ``sid``, and the clients each signed in to.

A sign-in at the sandbox starts a session with an id of its own (the ``sid`` of its ID tokens)
and the time the user gave their password (``auth_time``). Each client an ID token is issued to
joins the session, so that when it ends (the sandbox's sign-out button or the end-session
endpoint) every such client is told by back-channel logout.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import redis
from flask import session

from altitudeangel_sandbox.store import key

SID, AUTH_TIME, USER = "sid", "auth_time", "user"


@dataclass(frozen=True)
class SignIn:
    """The browser sign-in a code or a refresh token comes from, and the client's nonce."""

    sid: str
    auth_time: int
    nonce: str | None = None


def start_browser_session(username: str) -> None:
    """Sign ``username`` in to the sandbox in this browser, in a session of a new id."""
    session.clear()
    session[USER] = username
    session[SID] = secrets.token_urlsafe(16)
    session[AUTH_TIME] = int(time.time())


def current_sign_in(nonce: str | None = None) -> SignIn:
    """Return this browser's sign-in; a session that predates ``sid`` gets one now."""
    sid = session.setdefault(SID, secrets.token_urlsafe(16))
    auth_time = session.setdefault(AUTH_TIME, int(time.time()))
    return SignIn(str(sid), int(auth_time), nonce)


def _clients_key(sid: str) -> str:
    return key("session-clients", sid)


class BrowserSessions:
    """Which clients each browser session signed in to with OpenID Connect."""

    def __init__(self, db: redis.Redis, ttl: int):
        self._db = db
        self._ttl = ttl

    def join(self, sid: str, client_id: str) -> None:
        """Note that ``client_id`` holds an ID token of session ``sid``."""
        name = _clients_key(sid)
        with self._db.pipeline() as pipe:
            pipe.sadd(name, client_id)
            pipe.expire(name, self._ttl)
            pipe.execute()

    def end(self, sid: str) -> list[str]:
        """Forget session ``sid``; return the clients that signed in through it."""
        name = _clients_key(sid)
        with self._db.pipeline(transaction=True) as pipe:
            pipe.smembers(name)
            pipe.delete(name)
            members, _ = pipe.execute()
        return sorted(str(client_id) for client_id in members)

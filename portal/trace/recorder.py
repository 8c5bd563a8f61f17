"""Record each login's flow from the extension's protocol messages, one write per request.

The messages of a request are told as steps at its end. A sign-in spans two requests: /login
sends the authorization request (pushed first, perhaps), the callback brings the answer. What
/login sent is kept under the attempt's name (a hash of its state, given by the extension)
until the callback of that attempt signs someone in.

A login the provider ends by back-channel logout is ended in a request of the provider's, not
of the user's browser: its trace goes with it, and how it ended is kept for the user's next
sign-in, whose trace begins with it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Flask, current_app, g, has_request_context
from redis.exceptions import RedisError

from flask_altitudeangel import Cipher, Config, ProtocolMessage, Refresh, signals
from portal.extensions import aa
from portal.settings import Settings
from portal.trace import steps
from portal.trace.steps import Heard, Refreshed
from portal.trace.store import Step, TraceStore

log = logging.getLogger(__name__)
KEY = "portal_trace"
HEARD = "trace_messages"
ENDED = "trace_ended"  # the users whose logins this request ended by back-channel logout


class Recorder:
    """Listen to the extension for an app, gather the request's messages, write them at its end."""

    def init_app(self, app: Flask, redis: Any, settings: Settings, config: Config) -> None:
        """Record for ``app``; ``config`` is the sign-in extension's (``aa.config``)."""
        if not settings.flow_trace:
            return
        cipher = Cipher(config.token_encryption_keys, settings.secret_key)
        app.extensions[KEY] = TraceStore(redis, cipher, config.session_absolute_timeout)
        signals.protocol_message.connect(_heard, sender=app, weak=False)
        signals.token_refreshed.connect(_refreshed, sender=app, weak=False)
        signals.signed_out.connect(_signed_out, sender=app, weak=False)

    def store(self) -> TraceStore | None:
        """Return the current app's trace store, or None when the trace is off."""
        store: TraceStore | None = current_app.extensions.get(KEY)
        return store

    def flush(self) -> None:
        """Write the steps of what this request sent and received, in one round trip."""
        heard: list[Heard] | None = g.pop(HEARD, None)
        ended: set[str] = g.pop(ENDED, set())
        store = self.store()
        if not heard or store is None:
            return
        try:
            if ended:
                _record_ending(store, heard, ended)
            else:
                _record(store, heard)
        except RedisError:
            log.warning("event=trace_write_failed")  # the trace is a teaching aid, not state


recorder = Recorder()


def _record(store: TraceStore, heard: list[Heard]) -> None:
    messages = [m for m in heard if isinstance(m, ProtocolMessage)]
    started = next((m.attempt for m in messages if m.name == "authorization_request"), "")
    answered = next((m.attempt for m in messages if m.name == "authorization_response"), "")
    if started:  # /login: nobody is signed in by it yet
        store.keep_attempt(started, steps.told(heard))
        return
    earlier = store.take_attempt(answered) if answered else []
    if answered and not steps.signed_in(messages):
        return  # a refused callback: nobody's flow
    login = aa.current_login
    if login is None:
        return
    previous = store.take_ended(login.sub) if answered and login.sub else []
    store.record(login.login_id, [*previous, *earlier, *steps.told(heard, earlier)])


def _record_ending(store: TraceStore, heard: list[Heard], users: set[str]) -> None:
    """Keep how the provider ended these users' logins, for each one's next sign-in."""
    messages = [m for m in heard if isinstance(m, ProtocolMessage)]
    ending = steps.backchannel_logout(messages)
    if ending is None:
        return
    # A logout token names the user, or only the session (whose trace named the user).
    named = users | {_claim(ending, "logout token claims", "sub")}
    for sub in named - {""}:
        store.keep_ended(sub, [ending])


def _heard(app: Flask, message: ProtocolMessage, **extra: Any) -> None:
    if has_request_context():  # a background revocation belongs to no page's flow
        g.setdefault(HEARD, []).append(message)


def _refreshed(app: Flask, login_id: str, refresh: Refresh, **extra: Any) -> None:
    if has_request_context():  # a refresh made by a script belongs to no page's flow
        g.setdefault(HEARD, []).append(Refreshed(refresh, time.time()))


def _signed_out(app: Flask, login_id: str, reason: str = "", **extra: Any) -> None:
    store = recorder.store()
    if store is None:
        return
    if reason == "backchannel_logout" and has_request_context():
        # Who it was is in the trace, told by the sign-in's ID token: read it before it goes.
        try:
            told = store.steps(login_id)
        except RedisError:
            told = []  # the logout token may name the user itself
        subs = (_claim(step, steps.ID_CLAIMS, "sub") for step in told)
        g.setdefault(ENDED, set()).add(next((sub for sub in subs if sub), ""))
    store.forget(login_id)


def _claim(step: Step, row: str, name: str) -> str:
    """Return one claim a step shows in its ``row`` of claims, or ""."""
    try:
        claims = json.loads(dict(step.details).get(row, "{}"))
    except ValueError:
        return ""
    return str(claims.get(name, "")) if isinstance(claims, dict) else ""

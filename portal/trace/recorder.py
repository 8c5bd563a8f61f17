"""Record each login's flow from the extension's protocol messages, one write per request.

The messages of a request are told as steps at its end. A sign-in spans two requests: /login
sends the authorization request (pushed first, perhaps), the callback brings the answer. What
/login sent is kept under the attempt's name (a hash of its state, given by the extension)
until the callback of that attempt signs someone in.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, has_request_context
from redis.exceptions import RedisError

from flask_altitudeangel import Cipher, Config, ProtocolMessage, signals
from portal.extensions import aa
from portal.settings import Settings
from portal.trace import steps
from portal.trace.store import TraceStore

log = logging.getLogger(__name__)
KEY = "portal_trace"
HEARD = "trace_messages"


class Recorder:
    """Listen to the extension for an app, gather the request's messages, write them at its end."""

    def init_app(self, app: Flask, redis: Any, settings: Settings, config: Config) -> None:
        """Record for ``app``; ``config`` is the sign-in extension's (``aa.config``)."""
        if not settings.flow_trace:
            return
        cipher = Cipher(config.token_encryption_keys, settings.secret_key)
        app.extensions[KEY] = TraceStore(redis, cipher, config.session_absolute_timeout)
        signals.protocol_message.connect(_heard, sender=app, weak=False)
        signals.signed_out.connect(_signed_out, sender=app, weak=False)

    def store(self) -> TraceStore | None:
        """Return the current app's trace store, or None when the trace is off."""
        store: TraceStore | None = current_app.extensions.get(KEY)
        return store

    def flush(self) -> None:
        """Write the steps of what this request sent and received, in one round trip."""
        heard: list[ProtocolMessage] | None = g.pop(HEARD, None)
        store = self.store()
        if not heard or store is None:
            return
        try:
            _record(store, heard)
        except RedisError:
            log.warning("event=trace_write_failed")  # the trace is a teaching aid, not state


recorder = Recorder()


def _record(store: TraceStore, heard: list[ProtocolMessage]) -> None:
    started = next((m.attempt for m in heard if m.name == "authorization_request"), "")
    answered = next((m.attempt for m in heard if m.name == "authorization_response"), "")
    if started:  # /login: nobody is signed in by it yet
        store.keep_attempt(started, steps.told(heard))
        return
    earlier = store.take_attempt(answered) if answered else []
    if answered and not steps.signed_in(heard):
        return  # a refused callback: nobody's flow
    login_id = _current_login_id()
    if login_id:
        store.record(login_id, [*earlier, *steps.told(heard, earlier)])


def _heard(app: Flask, message: ProtocolMessage, **extra: Any) -> None:
    if has_request_context():  # a background revocation belongs to no page's flow
        g.setdefault(HEARD, []).append(message)


def _signed_out(app: Flask, login_id: str, **extra: Any) -> None:
    store = recorder.store()
    if store is not None:
        store.forget(login_id)


def _current_login_id() -> str | None:
    login = aa.current_login
    return login.login_id if login else None

"""Record each login's flow from the sign-in extension's signals, one write per request."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g
from redis.exceptions import RedisError

from flask_altitudeangel import ApiCall, Cipher, CodeExchange, Login, Refresh, signals
from portal.extensions import aa
from portal.settings import Settings
from portal.trace import steps
from portal.trace.store import Step, TraceStore

log = logging.getLogger(__name__)
KEY = "portal_trace"


class Recorder:
    """Listen to the extension for an app, gather the request's steps, write them at its end."""

    def init_app(self, app: Flask, redis: Any, settings: Settings) -> None:
        if not settings.flow_trace:
            return
        cipher = Cipher(settings.aa.token_encryption_keys, settings.secret_key)
        app.extensions[KEY] = TraceStore(redis, cipher, settings.aa.session_absolute_timeout)
        signals.code_exchanged.connect(_exchanged, sender=app, weak=False)
        signals.signed_in.connect(_signed_in, sender=app, weak=False)
        signals.token_refreshed.connect(_refreshed, sender=app, weak=False)
        signals.api_called.connect(_called, sender=app, weak=False)
        signals.signed_out.connect(_signed_out, sender=app, weak=False)

    def store(self) -> TraceStore | None:
        """Return the current app's trace store, or None when the trace is off."""
        store: TraceStore | None = current_app.extensions.get(KEY)
        return store

    def flush(self) -> None:
        """Write the steps this request noted, in one round trip, once the login is known."""
        noted: list[Step] | None = g.pop("trace_steps", None)
        store = self.store()
        if not noted or store is None:
            return
        login_id = g.get("trace_login") or _current_login_id()
        if not login_id:
            return
        try:
            store.record(login_id, noted)
        except RedisError:
            log.warning("event=trace_write_failed")  # the trace is a teaching aid, not state


recorder = Recorder()


def _note(*new: Step) -> None:
    g.setdefault("trace_steps", []).extend(new)


def _exchanged(app: Flask, exchange: CodeExchange, **extra: Any) -> None:
    _note(*steps.sign_in(exchange))


def _signed_in(app: Flask, login: Login, **extra: Any) -> None:
    g.trace_login = login.login_id


def _refreshed(app: Flask, login_id: str, refresh: Refresh, **extra: Any) -> None:
    _note(steps.refresh(refresh))


def _called(app: Flask, call: ApiCall, **extra: Any) -> None:
    _note(steps.api_call(call))


def _signed_out(app: Flask, login_id: str, **extra: Any) -> None:
    store = recorder.store()
    if store is not None:
        store.forget(login_id)


def _current_login_id() -> str | None:
    login = aa.current_login
    return login.login_id if login else None

"""The signed-in user's entry in the Flask session, and the limits on how long it lasts.

The session holds only a random login id, the user's name, two times, and the ID token's
``sub`` and ``sid`` when the sign-in had one; the tokens are in Redis under the login id. The
limits are checked whenever the login is asked for, so no hook
runs on requests that never look at it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, cast

from flask import current_app, g, session

from flask_altitudeangel._config import Config
from flask_altitudeangel._tokens import TokenLifecycle
from flask_altitudeangel.records import Login
from flask_altitudeangel.signals import signed_out

KEY = "altitudeangel"
LOGIN = "altitudeangel_login"  # the request's login, once checked, in flask.g
_UNKNOWN = object()


def start(
    login_id: str, display_name: str, aa_id: str, claims: Mapping[str, Any] | None = None
) -> Login:
    """Begin a signed-in session for ``login_id`` under a new session id.

    ``claims`` are the sign-in's ID token's: its ``sub`` and ``sid`` go into the session.
    """
    now = int(time.time())
    session.clear()
    ids = {name: str(claims[name]) for name in ("sub", "sid") if claims and claims.get(name)}
    entry = {"login": login_id, "name": display_name, "aa_id": aa_id, "at": now, "seen": now}
    session[KEY] = {**entry, **ids}
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:  # server-side sessions: a new id, the old one deleted
        regenerate(session)
    g.pop(LOGIN, None)
    sub, sid = ids.get("sub", ""), ids.get("sid", "")
    return Login(login_id, display_name, aa_id, now, now, sub, sid, dict(claims or {}))


def login_id_in_session() -> str | None:
    """Return the login id the session names, checking nothing."""
    entry = session.get(KEY)
    return str(entry["login"]) if isinstance(entry, dict) and "login" in entry else None


def current(config: Config, tokens: TokenLifecycle) -> Login | None:
    """Return this request's login, ending it first if it is past its idle or absolute limit."""
    # g and the session themselves: each attribute read through a proxy costs ~8,000
    # instructions, and this is asked several times a request (the view's guard, its API
    # calls, the page's template).
    here = g._get_current_object()
    cached = here.get(LOGIN, _UNKNOWN)
    if cached is not _UNKNOWN:
        return cast(Login | None, cached)
    login = _check(config, tokens, session._get_current_object().get(KEY))  # type: ignore[attr-defined]
    setattr(here, LOGIN, login)
    return login


def _check(config: Config, tokens: TokenLifecycle, entry: Any) -> Login | None:
    if not isinstance(entry, dict) or "login" not in entry:
        return None
    now = int(time.time())
    idle = now - int(entry.get("seen", 0))
    if now - int(entry.get("at", 0)) > config.session_absolute_timeout:
        end(tokens, wait=False, reason="absolute")
        return None
    if idle > config.session_idle_timeout:
        end(tokens, wait=False, reason="idle")
        return None
    claims: Mapping[str, Any] = {}
    if entry.get("sub"):
        # The provider may end this login from its side (back-channel logout), on any host:
        # its tokens are gone then, and the session goes with them.
        found = tokens.identity(str(entry["login"]))
        if found is None:
            session.clear()
            return None
        claims = found
    # Slide the idle limit, but write the session only now and then, not on every request.
    if idle > config.session_idle_timeout // 10:
        session[KEY] = {**entry, "seen": now}
        tokens.seen(str(entry["login"]), now + config.session_idle_timeout)
    return Login(
        str(entry["login"]),
        str(entry.get("name", "")),
        str(entry.get("aa_id", "")),
        int(entry["at"]),
        int(entry.get("seen", now)),
        str(entry.get("sub", "")),
        str(entry.get("sid", "")),
        claims,
    )


def end(tokens: TokenLifecycle, wait: bool, reason: str) -> None:
    """End the session's login: revoke its grant, delete its tokens, clear the session."""
    login_id = login_id_in_session()
    if login_id:
        tokens.end(login_id, wait)
        signed_out.send(current_app._get_current_object(), login_id=login_id, reason=reason)  # type: ignore[attr-defined]
    if session:
        session.clear()
    setattr(g, LOGIN, None)

"""Looking inside the sign-in extension's state, for tests only: the app never does this."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from flask_altitudeangel import Config
from flask_altitudeangel._tokens import TokenLifecycle
from flask_altitudeangel._tokens.store import RedisTokenStore, UserToken

SESSION_KEY = "altitudeangel"


def login_id(client: FlaskClient) -> str | None:
    """Return the login id the test client's session names, if any."""
    with client.session_transaction() as session:
        entry = session.get(SESSION_KEY)
    return str(entry["login"]) if isinstance(entry, dict) else None


def config(app: Flask) -> Config:
    """Return the settings the extension read and checked, with the server's metadata (read
    now if it was not yet)."""
    found: Config = app.extensions["altitudeangel"].server.ready()
    return found


def token_store(app: Flask) -> RedisTokenStore:
    """Return the app's token store (the extension's one owner of stored tokens)."""
    store: RedisTokenStore = app.extensions["altitudeangel"].tokens._store
    return store


def lifecycle(app: Flask) -> TokenLifecycle:
    """Return the app's token lifecycle: store, refresh, revoke."""
    found: TokenLifecycle = app.extensions["altitudeangel"].tokens
    return found


def stored_token(client: FlaskClient) -> UserToken | None:
    """Return the tokens stored for the test client's login, decrypted."""
    found = login_id(client)
    return token_store(client.application).get(found) if found else None


def pending_cipher(app: Flask) -> Any:
    """Return the cipher pending sign-ins are encrypted with."""
    return app.extensions["altitudeangel"].pending._cipher


def session_entry(client: FlaskClient) -> dict[str, Any]:
    with client.session_transaction() as session:
        return dict(session[SESSION_KEY])


def portal_redis(app: Flask) -> Any:
    """Return the Redis client the portal ``app`` keeps its sessions, tokens and limits in."""
    from portal.extensions import readiness  # the portal's, where a test has built one

    return readiness.redis_of(app)

"""A host app signing in at the stand-in OpenID provider, and a sign-in through it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFProtect
from werkzeug.test import TestResponse

from flask_altitudeangel import AltitudeAngel, SignInFailed, SignInRequired
from tests.extension.openid_standin import CLIENT_ID, CLIENT_SECRET, StandInProvider
from tests.services import RedisServer

REDIRECT_URI = "http://127.0.0.1:5000/auth/callback"  # the test client takes the callback


def settings(provider: StandInProvider, redis_server: RedisServer) -> dict[str, Any]:
    return {
        "SECRET_KEY": "id-token-test-secret-key-" + "i" * 32,
        "AA_AUTH_URL": provider.url,
        "AA_API_URL": provider.url,
        "AA_CLIENT_ID": CLIENT_ID,
        "AA_CLIENT_SECRET": CLIENT_SECRET,
        "AA_REDIRECT_URI": REDIRECT_URI,
        "AA_SCOPES": "openid query_mapdata",
        "AA_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/6",
    }


def host(
    provider: StandInProvider, redis_server: RedisServer, csrf: str = "", **extra: Any
) -> Flask:
    """A host app that answers a refused sign-in with its reason and failed check, as JSON.

    ``csrf`` binds Flask-WTF's CSRFProtect ``before`` or ``after`` the extension.
    """
    app = Flask(__name__)
    app.config.update({**settings(provider, redis_server), **extra})
    if csrf == "before":
        CSRFProtect(app)
    app.extensions["aa"] = AltitudeAngel(app, url_prefix="/auth")
    if csrf == "after":
        CSRFProtect(app)

    @app.errorhandler(SignInFailed)
    def refused(error: SignInFailed) -> tuple[dict[str, str], int]:
        return {"reason": error.reason, "check": error.check}, error.code or 400

    @app.get("/me")
    def me() -> dict[str, Any]:
        login = app.extensions["aa"].current_login
        if login is None:
            raise SignInRequired()
        return {"sub": login.sub, "sid": login.sid, "claims": dict(login.id_token_claims)}

    return app


def sign_in(
    client: FlaskClient, provider: StandInProvider, sub: str = "alice", sid: str = "sid-1"
) -> TestResponse:
    """Sign in as ``sub`` in provider session ``sid``; return the app's answer to the callback."""
    provider.identity = (sub, sid)
    started = client.get("/auth/login")
    assert started.status_code == 302, started.text[:300]
    answer = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")

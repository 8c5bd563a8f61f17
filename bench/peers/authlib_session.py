"""The common pattern: Authlib's Flask client, the token inside a Flask-Session on Redis.

Built the way Authlib's and Flask-Session's documentation show: ``OAuth(app).register(...)``
with an ``update_token`` that writes the refreshed token back into the session, and
``oauth.aa.get(..., token=session["token"])`` refreshing an expired token on the way, with no
lock. The page is the app's own template, so only the token handling differs. A refresh the
server refuses, or a 401 from the API, ends the sign-in: the user is sent to /login.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, render_template, session
from flask_session import Session
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from bench.page import PAGE, PER_PAGE, SESSION_COOKIE, link_pages, page_app
from portal.models import ReportPage

SCOPE = "query_userinfo manage_flightreports query_mapdata"


def create_peer() -> Flask:
    """Build the peer from PEER_* variables, REDIS_URL and SECRET_KEY."""
    env = os.environ
    app = page_app(__name__)
    app.config.update(
        SECRET_KEY=env["SECRET_KEY"],
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(env["REDIS_URL"]),
        SESSION_COOKIE_NAME=SESSION_COOKIE,
    )
    Session(app)
    CSRFProtect(app)
    link_pages(app)
    oauth = OAuth(app)
    auth_url = env["PEER_AUTH_URL"]
    oauth.register(
        "aa",
        client_id=env["PEER_CLIENT_ID"],
        client_secret=env["PEER_CLIENT_SECRET"],
        authorize_url=auth_url + "/oauth/v2/authorize",
        access_token_url=auth_url + "/oauth/v2/token",
        api_base_url=env["PEER_API_URL"].rstrip("/") + "/",
        # The refresh leeway matches the app's margin, so both refresh at the same moments.
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "leeway": int(env.get("PEER_REFRESH_LEEWAY", "60")),
        },
        update_token=_save_refreshed_token,
    )
    _add_views(app, oauth, env["PEER_REDIRECT_URI"])
    return app


def _save_refreshed_token(token: dict[str, Any], refresh_token: Any = None, **_: Any) -> None:
    session["token"] = dict(token)


def _add_views(app: Flask, oauth: OAuth, redirect_uri: str) -> None:
    @app.get("/login", endpoint="altitudeangel.login")
    def login() -> Response:
        return oauth.aa.authorize_redirect(redirect_uri)

    @app.get("/callback")
    def callback() -> Response:
        session["token"] = dict(oauth.aa.authorize_access_token())
        return redirect("/flight-reports", 303)

    @app.get("/flight-reports", endpoint="flights.index")
    def reports() -> str | Response:
        token = session.get("token")
        if not token:
            return redirect("/login")
        params = {"page": 1, "per_page": PER_PAGE}
        try:
            answer = oauth.aa.get("flightReport", params=params, token=token, timeout=10)
        except OAuthError:
            session.clear()  # the refresh was refused: sign in again
            return redirect("/login")
        if answer.status_code == 401:
            session.clear()
            return redirect("/login")
        answer.raise_for_status()
        # The shared template shows the signed-in navigation when there is a current login.
        signed_in = {"user_name": "Signed-in user"}
        return render_template(
            PAGE, reports=ReportPage.from_api(answer.json()), current_login=signed_in
        )

    @app.get("/healthz")
    def healthz() -> str:
        return "ok\n"

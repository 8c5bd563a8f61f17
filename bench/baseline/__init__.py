"""The limit: the signed-in flight reports page with exactly the app's I/O, done the leanest way.

One Redis GET of the session, one HMGET of the login's tokens, one pooled urllib3 GET of the
API, the app's own template compiled once. Nothing else: no refresh, no trace, no metrics, no
CSRF protection of forms (the page still carries the signed CSRF token its sign-out form needs).
It reads the sessions and tokens the app wrote, so it needs the app's SECRET_KEY and Redis.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Callable, Mapping

import msgspec
import redis
import urllib3
from flask import Flask, abort, redirect, request
from werkzeug.wrappers import Response

from bench.page import (
    PAGE,
    PER_PAGE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    content_security_policy,
    link_pages,
    page_app,
)
from flask_altitudeangel import Cipher
from portal.csrf_token import signed
from portal.models import ReportPage
from portal.sessions import session_key


def create_baseline(env: Mapping[str, str] | None = None) -> Flask:
    """Build the baseline from REDIS_URL, SECRET_KEY, AA_API_URL and AA_AUTH_URL."""
    app = page_app(__name__)
    link_pages(app)
    app.add_url_rule("/login", "altitudeangel.login", lambda: ("", 404))
    app.add_url_rule("/healthz", "healthz", lambda: "ok\n")
    app.add_url_rule("/flight-reports", "flights.index", _reports_view(app, env or os.environ))
    return app


def _reports_view(app: Flask, env: Mapping[str, str]) -> Callable[[], Response]:
    db = redis.Redis.from_url(env["REDIS_URL"], socket_timeout=1, socket_connect_timeout=1)
    cipher = Cipher((), env["SECRET_KEY"])  # the key the app derives from SECRET_KEY
    secret_key = env["SECRET_KEY"]
    http = urllib3.PoolManager(
        num_pools=4, maxsize=16, retries=False, timeout=urllib3.Timeout(connect=3, read=10)
    )
    url = f"{env['AA_API_URL'].rstrip('/')}/flightReport?page=1&per_page={PER_PAGE}"
    decode = msgspec.json.Decoder(dict).decode
    template = app.jinja_env.get_template(PAGE)
    csp = content_security_policy(env["AA_AUTH_URL"])
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp}

    def index() -> Response:
        if request.args.get("page", "1") != "1":
            abort(400)  # the benchmark only ever asks for the first page
        sid = request.cookies.get(SESSION_COOKIE)
        raw = db.get(session_key("portal:session:", sid)) if sid else None
        session = decode(raw) if raw else {}
        blob = None
        login = session.get("altitudeangel") or {}
        if login.get("login"):
            blob = db.hmget(f"portal:login:{{{login['login']}}}:tokens", "v", "blob")[1]
        token = json.loads(zlib.decompress(cipher.decrypt(blob))) if blob else {"expires_at": 0}
        if token["expires_at"] <= time.time():
            return redirect("/login")  # the baseline never refreshes
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        answer = http.request("GET", url, headers={**bearer, "Accept": "application/json"})
        if answer.status != 200:
            abort(502)
        reports = ReportPage.from_api(json.loads(answer.data))
        html = template.render(
            reports=reports,
            session=session,
            current_login={"user_name": login.get("name")},
            csrf_token=lambda: signed(session["csrf_token"], secret_key),  # as the app signs it
        )
        return Response(html, 200, headers, mimetype="text/html")

    return index

"""The floor: the signed-in page's I/O and its rows, with nothing else around them.

The same I/O as the app's page (one Redis GET of the session, one HMGET of the login's tokens,
one GET of the API over a pooled urllib3 connection) and the same rows, rendered by a template
of a dozen lines straight from the API's JSON: no navigation, no CSRF token, no hooks, no
extension, no session object. What no page doing this I/O and showing these rows can go
below, on the same Flask and gunicorn. It reads the sessions and tokens the app wrote, so it
needs the app's SECRET_KEY and Redis.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import redis
import urllib3
from flask import Flask, abort, redirect, request
from werkzeug.wrappers import Response

from bench.page import PER_PAGE, SECURITY_HEADERS, SESSION_COOKIE, content_security_policy
from flask_altitudeangel import Cipher
from portal.sessions import session_key

MONTHS = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
JSON = "application/json"
TYPES = {"com": "Commercial", "rec": "Recreational"}
ROWS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your flight reports</title></head>
<body><h1>Your flight reports</h1><table>
<tr><th>Reference</th><th>Name</th><th>Type</th><th>Start</th><th>End</th><th>Status</th></tr>
{% for r in rows %}<tr><td><a href="/flight-reports/{{ r.flightId }}">{{ r.reference }}</a></td>
<td>{{ r.name }}</td><td>{{ types.get(r.flight_type, r.flight_type) }}</td>
<td>{{ when(r.start) }} {{ r.timezone }}</td><td>{{ when(r.end) }} {{ r.timezone }}</td>
<td>{{ r.status }}</td></tr>
{% endfor %}</table></body></html>
"""


def create_floor(env: Mapping[str, str] | None = None) -> Flask:
    """Build the floor from REDIS_URL, SECRET_KEY, AA_API_URL and AA_AUTH_URL."""
    app = Flask(__name__)
    app.add_url_rule("/healthz", "healthz", lambda: "ok\n")
    app.add_url_rule("/flight-reports", "index", _reports_view(app, env or os.environ))
    return app


def when(iso: str) -> str:
    """Show ``2026-03-01T10:00:00`` as ``01 Mar 2026 10:00``, the page's format."""
    return f"{iso[8:10]} {MONTHS[int(iso[5:7])]} {iso[:4]} {iso[11:16]}"


def _reports_view(app: Flask, env: Mapping[str, str]) -> Callable[[], Response]:
    db = redis.Redis.from_url(env["REDIS_URL"], socket_timeout=1, socket_connect_timeout=1)
    cipher = Cipher((), env["SECRET_KEY"])  # the key the app derives from SECRET_KEY
    http = urllib3.PoolManager(
        num_pools=4, maxsize=16, retries=False, timeout=urllib3.Timeout(connect=3, read=10)
    )
    url = f"{env['AA_API_URL'].rstrip('/')}/flightReport?page=1&per_page={PER_PAGE}"
    decode = msgspec.json.Decoder(dict).decode
    template = app.jinja_env.from_string(ROWS)
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy("")}

    def index() -> Response:
        sid = request.cookies.get(SESSION_COOKIE)
        raw = db.get(session_key("portal:session:", sid)) if sid else None
        login: dict[str, Any] = (decode(raw) if raw else {}).get("altitudeangel") or {}
        if not login.get("login"):
            return redirect("/login")
        blob = db.hmget(f"portal:login:{{{login['login']}}}:tokens", "v", "blob")[1]
        token = json.loads(zlib.decompress(cipher.decrypt(blob))) if blob else {}  # type: ignore[arg-type]
        if token.get("expires_at", 0) <= time.time():
            return redirect("/login")
        bearer = f"Bearer {token['access_token']}"
        answer = http.request("GET", url, headers={"Authorization": bearer, "Accept": JSON})
        if answer.status != 200:
            abort(502)
        rows = json.loads(answer.data)["items"]
        html = template.render(rows=rows, types=TYPES, when=when)
        return Response(html, 200, headers, mimetype="text/html")

    return index

"""The flow trace: each step in order, and never a usable secret (issue: show the flow)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests import peek
from tests.oauth_driver import SandboxUser
from tests.portal.conftest import DEMO_SECRET, REDIRECT_URI, SignIn, app_environment
from tests.portal.test_callback import pending_record
from tests.services import RedisServer, ServiceProcess

# With a pushed authorization request (RFC 9126), which a server's metadata offers, one more.
PUSHED_SIGN_IN_STEPS = [
    "Sign in",
    "Pushed authorization request",
    "Authorization request (via the browser)",
    "Sign-in and consent",
    "Authorization response (callback)",
    "Token request",
    "Token response",
    "User profile",
]
SIGN_IN_STEPS = [
    "Sign in",
    "Authorization request (via the browser)",
    "Sign-in and consent",
    "Authorization response (callback)",
    "Token request",
    "Token response",
    "User profile",
]


def step_titles(page: str) -> list[str]:
    return re.findall(r'<span class="arrow-title">([^<]+)</span>', page)


def test_the_flow_page_shows_each_sign_in_step_in_order(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client, query={"scope": "query_userinfo manage_flightreports query_mapairdata"})
    page = client.get("/flow").get_data(as_text=True)
    assert step_titles(page)[: len(SIGN_IN_STEPS)] == SIGN_IN_STEPS
    assert "query_mapairdata" in page
    assert "RFC 7636" in page and "RFC 9207" in page and "RFC 6749 §4.1.3" in page


def test_api_calls_are_added_to_the_trace(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(client)
    client.get("/flight-reports")
    page = client.get("/flow").get_data(as_text=True)
    assert step_titles(page)[-1] == "List reports"
    assert "GET /flightReport" in page


def test_the_trace_never_holds_a_whole_secret(portal_app: Flask) -> None:
    client = portal_app.test_client()
    started = client.get("/login")
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    verifier = pending_record(client, state)["code_verifier"]
    callback = SandboxUser("alice", "wonderland").authorize(
        started.headers["Location"], REDIRECT_URI
    )
    code = parse_qs(urlsplit(callback).query)["code"][0]
    client.get(callback.removeprefix("http://localhost:5000"))
    client.get("/flight-reports")
    login_id = str(peek.login_id(client))
    token = peek.stored_token(client)
    assert token is not None
    trace = portal_app.extensions["portal_trace"]
    stored = json.dumps([asdict(step) for step in trace.steps(login_id)])
    pages = "".join(client.get(p).get_data(as_text=True) for p in ("/flow", "/session"))
    for secret in (token.access_token, token.refresh_token, code, verifier, DEMO_SECRET):
        assert secret not in stored
        assert secret not in pages
    assert len(trace.steps(login_id)) >= len(SIGN_IN_STEPS)


def test_the_trace_is_encrypted_at_rest(
    client: FlaskClient, sign_in: SignIn, redis_server: RedisServer
) -> None:
    sign_in(client)
    login_id = peek.login_id(client)
    raw = b"".join(redis_server.client().lrange(f"portal:login:{{{login_id}}}:trace", 0, -1))
    assert raw and b"Token request" not in raw and b"demo-portal" not in raw


def test_with_the_trace_off_nothing_is_recorded(
    redis_server: RedisServer, sandbox: ServiceProcess, sign_in: SignIn
) -> None:
    app = create_app(app_environment(redis_server, sandbox, FLOW_TRACE="0"))
    client = app.test_client()
    sign_in(client)
    login_id = peek.login_id(client)
    assert not redis_server.client().exists(f"portal:login:{{{login_id}}}:trace")
    assert b"The flow trace is off" in client.get("/flow").data

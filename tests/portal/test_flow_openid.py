"""The flow trace with OpenID Connect: the ID token by its claims, never whole, and the
provider's back-channel logout told to the user's next sign-in."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from flask_altitudeangel import fingerprint
from tests import peek
from tests.oauth_driver import USERS, SandboxUser, csrf_token, parse_forms
from tests.portal.conftest import SignIn, app_environment, portal_for
from tests.portal.test_flow import SIGN_IN_STEPS, jwt_parts, shortened, step_shown, step_titles
from tests.services import RedisServer, ServiceProcess, admin_call, free_port, sandbox_process

OPENID_SCOPES = "openid query_userinfo manage_flightreports query_mapdata"
ALICE = "aa-user-5f1c2a9e-alice"
ONE_TIME = ("nonce", "sid", "at_hash", "jti")  # claims the page shows by their first characters


def as_shown(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: shortened(str(v)) if k in ONE_TIME else v for k, v in claims.items()}


def trace_of(app: Flask, login_id: str) -> str:
    return json.dumps([asdict(step) for step in app.extensions["portal_trace"].steps(login_id)])


@pytest.fixture
def openid_app(redis_server: RedisServer, sandbox: ServiceProcess) -> Flask:
    return portal_for(app_environment(redis_server, sandbox, AA_SCOPES=OPENID_SCOPES))


def test_the_id_token_is_shown_by_its_claims_at_sign_in_and_refresh_never_whole(
    openid_app: Flask, sign_in: SignIn, faults: Callable[..., None]
) -> None:
    client = openid_app.test_client()
    assert sign_in(client).status_code == 303
    first = peek.stored_token(client)
    assert first is not None and first.id_token and first.id_claims
    faults("api", "invalid_token")  # the API refuses the token once: the portal refreshes
    assert client.get("/flight-reports").status_code == 200
    refreshed = peek.stored_token(client)
    assert refreshed is not None and refreshed.id_token and refreshed.id_claims
    assert refreshed.id_token != first.id_token
    page = client.get("/flow").get_data(as_text=True)

    assert step_titles(page)[: len(SIGN_IN_STEPS)] == SIGN_IN_STEPS
    answer = step_shown(page, "Token response")
    assert json.loads(answer["ID token claims"]) == as_shown(first.id_claims)
    assert first.id_claims["sub"] == ALICE and first.id_claims["aud"] == "demo-portal"
    assert answer["id_token"] == fingerprint(first.id_token)
    assert "nonce" in first.id_claims and "at_hash" in first.id_claims
    assert "The ID token says who signed in" in page
    again = step_shown(page, "Refresh")
    assert json.loads(again["ID token claims"]) == as_shown(refreshed.id_claims)
    assert again["reason"] == "after a 401"

    stored = trace_of(openid_app, str(peek.login_id(client)))
    for token in (first, refreshed):
        assert token.id_claims is not None and token.id_token is not None
        for whole in (
            token.id_token,
            token.id_token.split(".")[1],  # the claims as they are signed
            token.id_token.split(".")[2],
            str(token.id_claims["sid"]),
            str(token.id_claims["at_hash"]),
        ):
            assert whole not in page and whole not in stored
    assert str(first.id_claims["nonce"]) not in page + stored


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[ServiceProcess]:
    """A sandbox of this module's own: the back-channel logout URI registered here stays
    registered, and no other module's sign-outs should post to it."""
    redis = RedisServer().start()
    sandbox = sandbox_process(redis.url).start()
    yield sandbox
    sandbox.stop()
    redis.cleanup()


@pytest.fixture
def served_portal(
    own_sandbox: ServiceProcess, redis_server: RedisServer
) -> Iterator[tuple[str, Flask]]:
    """The portal asking for openid, served over HTTP so that the sandbox can post to it.

    The logout tokens it is sent are kept in its config's ``received``, to look for on pages.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = app_environment(
        redis_server, own_sandbox, AA_SCOPES=OPENID_SCOPES, AA_REDIRECT_URI=url + "/callback"
    )
    app = portal_for(env)
    received: list[str] = []
    app.config["received"] = received

    @app.before_request
    def keep_the_logout_token() -> None:
        if request.path == "/backchannel-logout":
            received.extend(request.form.getlist("logout_token"))

    body = {
        "client_id": "demo-portal",
        "redirect_uri": url + "/callback",
        "backchannel_logout_uri": url + "/backchannel-logout",
    }
    admin_call(own_sandbox, "POST", "/_sandbox/redirect-uris", body)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url, app
    server.shutdown()


def signed_in(url: str, browser: requests.Session) -> str:
    """Sign in as alice with ``browser`` (the app's cookies and the sandbox's); return the
    sandbox's address."""
    started = browser.get(url + "/login", allow_redirects=False, timeout=10)
    assert started.status_code == 302, started.text[:300]
    person = SandboxUser("alice", USERS["alice"], http=browser)
    callback = person.authorize(started.headers["Location"], url + "/callback")
    assert browser.get(callback, allow_redirects=False, timeout=10).status_code == 303
    where = urlsplit(started.headers["Location"])
    return f"{where.scheme}://{where.netloc}"


def test_the_next_sign_in_shows_how_the_provider_ended_the_last_one(
    served_portal: tuple[str, Flask],
) -> None:
    url, app = served_portal
    browser = requests.Session()
    browser.trust_env = False
    sandbox_url = signed_in(url, browser)
    flow = browser.get(url + "/flow", timeout=10).text
    assert "Back-channel logout" not in flow and "ID token claims" in flow

    # Signed out at the sandbox itself: it posts a logout token to the portal, server to server.
    home = browser.get(sandbox_url + "/sandbox/", timeout=10)
    [sign_out] = parse_forms(home.text)
    ended = browser.post(sandbox_url + sign_out.action, data=sign_out.fields, timeout=10)
    assert "You are not signed in" in ended.text
    assert "Please sign in" in browser.get(url + "/flow", timeout=10).text
    [logout_token] = app.config["received"]

    signed_in(url, browser)
    page = browser.get(url + "/flow", timeout=10).text
    titles = step_titles(page)
    assert titles[: len(SIGN_IN_STEPS) + 1] == [
        "Back-channel logout (your previous sign-in)",
        *SIGN_IN_STEPS,
    ]
    assert "before this sign-in, at " in page
    logout = step_shown(page, "Back-channel logout (your previous sign-in)")
    header, claims, signature = jwt_parts(logout_token)
    assert (
        claims["sub"] == ALICE
        and "http://schemas.openid.net/event/backchannel-logout" in (claims["events"])
    )
    assert json.loads(logout["logout token claims"]) == as_shown(claims)
    assert json.loads(logout["logout token header"]) == header
    assert logout["logout_token"] == fingerprint(logout_token)
    assert logout["logout token signature"] == shortened(signature)
    assert logout["status"] == "200"
    assert logout["endpoint"] == url + "/backchannel-logout"

    stored = trace_of(app, peek_login(app, browser))
    for whole in (
        logout_token,
        logout_token.split(".")[1],
        signature,
        claims["jti"],
        claims["sid"],
    ):
        assert whole not in page and whole not in stored

    # Told once: the sign-in after this one begins with its own first step.
    token = csrf_token(browser.get(url + "/", timeout=10).text)
    out = browser.post(url + "/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status_code == 303
    signed_in(url, browser)
    assert step_titles(browser.get(url + "/flow", timeout=10).text)[0] == "Sign in"


def peek_login(app: Flask, browser: requests.Session) -> str:
    """Return the login id of ``browser``'s session, read through a test client of the app."""
    looking = app.test_client()
    looking.set_cookie("portal_session", str(browser.cookies.get("portal_session")))
    found = peek.login_id(looking)
    assert found is not None
    return found

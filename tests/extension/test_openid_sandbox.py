"""OpenID Connect against the sandbox: its ID tokens pass every check, at sign-in and refresh,
sign-out hands one to its end-session endpoint, and its back-channel logout ends the login.

The tokens wrong on purpose come from the stand-in provider (test_id_tokens.py,
test_backchannel_logout.py); these are the sandbox's own, over real HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from altitudeangel_sandbox.testing import Sandbox
from flask_altitudeangel import AltitudeAngel, ProtocolMessage, SignInRequired, fingerprint, signals
from flask_altitudeangel.storage import UserToken
from tests import peek
from tests.oauth_driver import USERS, SandboxUser, parse_forms
from tests.portal.test_flow import jwt_parts
from tests.services import RedisServer, free_port

# Nothing listens there: the sandbox's redirect is handed to the in-process app's test client.
REDIRECT_URI = "http://127.0.0.1:5000/auth/callback"
SIGNED_OUT = "http://127.0.0.1:5000/auth/signed-out"
ALICE = "aa-user-5f1c2a9e-alice"


def host(sandbox: Sandbox, redis_server: RedisServer, redirect_uri: str = REDIRECT_URI) -> Flask:
    """A host app asking the sandbox for openid, with a page that says who is signed in."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="openid-sandbox-test-key-" + "o" * 32,
        AA_AUTH_URL=sandbox.url,
        AA_API_URL=sandbox.url,
        AA_CLIENT_ID=sandbox.client_id,
        AA_CLIENT_SECRET=sandbox.client_secret,
        AA_REDIRECT_URI=redirect_uri,
        AA_SCOPES="openid query_userinfo",
        AA_REDIS_URL=f"redis://127.0.0.1:{redis_server.port}/7",
    )
    app.extensions["aa"] = AltitudeAngel(app, url_prefix="/auth")

    @app.get("/me")
    def me() -> dict[str, Any]:
        login = app.extensions["aa"].current_login
        if login is None:
            raise SignInRequired()
        return {"sub": login.sub, "sid": login.sid, "claims": dict(login.id_token_claims)}

    @app.errorhandler(SignInRequired)
    def signed_out(error: SignInRequired) -> tuple[str, int]:
        return "sign in", 401

    return app


@pytest.fixture
def app(altitudeangel_sandbox: Sandbox, redis_server: RedisServer) -> Flask:
    altitudeangel_sandbox.register_redirect_uri(REDIRECT_URI, SIGNED_OUT)
    return host(altitudeangel_sandbox, redis_server)


def sign_in(client: FlaskClient, person: SandboxUser, **query: str) -> TestResponse:
    """Sign in through the sandbox's pages; return the app's answer to the callback."""
    started = client.get("/auth/login", query_string=query)
    assert started.status_code == 302, started.text[:300]
    callback = urlsplit(person.authorize(started.headers["Location"], REDIRECT_URI))
    return client.get(f"{callback.path}?{callback.query}")


def alice() -> SandboxUser:
    return SandboxUser("alice", USERS["alice"])


def test_the_sandboxs_id_token_passes_every_check_and_gives_sub_and_sid(app: Flask) -> None:
    client = app.test_client()
    answer = sign_in(client, alice())
    assert answer.status_code == 303, answer.text
    me = client.get("/me").get_json()
    assert me["sub"] == ALICE and me["sid"]
    claims = me["claims"]
    assert claims["aud"] == "demo-portal" and claims["nonce"] and claims["at_hash"]
    entry = peek.session_entry(client)
    assert (entry["sub"], entry["sid"]) == (ALICE, me["sid"])
    stored = peek.stored_token(client)
    assert stored is not None and stored.id_token and stored.id_claims == claims

    # Another sign-in in the same sandbox session: the same sid, another nonce.
    person = alice()
    first, second = app.test_client(), app.test_client()
    assert sign_in(first, person).status_code == 303
    assert sign_in(second, person).status_code == 303
    one, two = first.get("/me").get_json(), second.get("/me").get_json()
    assert one["sid"] == two["sid"] != me["sid"]
    assert one["claims"]["nonce"] != two["claims"]["nonce"]


def test_chosen_scopes_and_pushed_requests_still_ask_for_openid(app: Flask) -> None:
    client = app.test_client()
    started = client.get("/auth/login", query_string={"scope": "query_userinfo"})
    pushed = parse_qs(urlsplit(started.headers["Location"]).query)
    assert set(pushed) == {"client_id", "request_uri"}  # the nonce went in the pushed request
    callback = urlsplit(alice().authorize(started.headers["Location"], REDIRECT_URI))
    assert client.get(f"{callback.path}?{callback.query}").status_code == 303
    assert client.get("/me").get_json()["sub"] == ALICE
    stored = peek.stored_token(client)
    assert stored is not None and "openid" in stored.scopes


def signed_in_and_refreshed(app: Flask, client: FlaskClient) -> tuple[UserToken, UserToken]:
    """Sign alice in, then refresh her tokens once; return the tokens before and after."""
    assert sign_in(client, alice()).status_code == 303
    first = peek.stored_token(client)
    login_id = peek.login_id(client)
    assert first is not None and first.id_claims is not None and login_id is not None
    with app.app_context():
        return first, peek.lifecycle(app).refresh_after_rejection(login_id, first)


def test_a_refresh_brings_a_checked_id_token_of_the_same_sign_in(app: Flask) -> None:
    client = app.test_client()
    first, refreshed = signed_in_and_refreshed(app, client)
    assert first.id_claims is not None
    assert refreshed.id_token and refreshed.id_token != first.id_token
    assert refreshed.id_claims is not None
    assert refreshed.id_claims["sub"] == ALICE
    assert refreshed.id_claims["sid"] == first.id_claims["sid"]
    assert "nonce" not in refreshed.id_claims
    assert client.get("/me").get_json()["claims"]["at_hash"] == refreshed.id_claims["at_hash"]


def test_sign_out_hands_the_id_token_to_the_end_session_endpoint_and_tells_no_secret(
    app: Flask, altitudeangel_sandbox: Sandbox
) -> None:
    person = alice()
    client = app.test_client()
    told: list[ProtocolMessage] = []
    with signals.protocol_message.connected_to(lambda _, message: told.append(message), app):
        assert sign_in(client, person).status_code == 303
        stored = peek.stored_token(client)
        signed_out = client.post("/auth/logout")
    assert signed_out.status_code == 303 and stored is not None
    location = signed_out.headers["Location"]
    assert location.startswith(altitudeangel_sandbox.url + "/oauth/v2/logout?")
    assert parse_qs(urlsplit(location).query)["id_token_hint"] == [stored.id_token]
    confirm = person.http.get(location, timeout=10)
    assert confirm.status_code == 200 and "Sign out of Altitude Angel?" in confirm.text
    assert stored.id_claims is not None
    secrets = [str(stored.id_token), str(stored.id_claims["nonce"])]
    shown = [value for message in told for _, value in message.details]
    assert {m.name for m in told} >= {"authorization_request", "end_session_request"}
    assert not [value for value in shown if any(secret in value for secret in secrets)]
    hint = dict(next(m for m in told if m.name == "end_session_request").details)
    assert hint["id_token_hint"].startswith("JWT, sha256 ")


def shortened(value: str) -> str:
    """What a description shows of a one-time claim or a signature: its first 8 characters."""
    return f"{value[:8]}\u2026 ({len(value)} chars)"


def told_claims(message: ProtocolMessage, what: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(dict(message.details)[f"{what} claims"])
    return found


def test_token_responses_tell_the_id_token_by_its_claims_never_whole(app: Flask) -> None:
    client = app.test_client()
    told: list[ProtocolMessage] = []
    with signals.protocol_message.connected_to(lambda _, message: told.append(message), app):
        first, refreshed = signed_in_and_refreshed(app, client)
    answers = {m.operation: m for m in told if m.name == "token_response"}
    for grant, token in (("authorization_code", first), ("refresh_token", refreshed)):
        assert token.id_token and token.id_claims is not None
        details = dict(answers[grant].details)
        assert details["id_token"] == fingerprint(token.id_token)
        one_time = ("nonce", "sid", "at_hash")
        expected = {k: shortened(v) if k in one_time else v for k, v in token.id_claims.items()}
        assert told_claims(answers[grant], "ID token") == expected
        assert json.loads(details["ID token header"])["alg"] == "RS256"
        assert details["ID token signature"] == shortened(token.id_token.split(".")[2])
    secrets = [str(first.id_token), str(refreshed.id_token), str(first.id_claims["nonce"])]
    secrets += [str(first.id_claims["sid"]), str(refreshed.id_claims["at_hash"])]
    shown = [value for message in told for _, value in message.details]
    assert not [value for value in shown if any(secret in value for secret in secrets)]


@pytest.fixture
def served_host(
    altitudeangel_sandbox: Sandbox, redis_server: RedisServer
) -> Iterator[tuple[str, Flask]]:
    """The host app served over HTTP, so that the sandbox can post to it; the logout tokens
    it was sent are kept in ``received``, the messages it told in ``told``, in its config."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = host(altitudeangel_sandbox, redis_server, url + "/auth/callback")
    received: list[str] = []
    told: list[ProtocolMessage] = []
    app.config.update(received=received, told=told)

    @app.before_request
    def keep_the_logout_token() -> None:
        received.extend(request.form.getlist("logout_token"))

    altitudeangel_sandbox.register_redirect_uri(
        url + "/auth/callback", backchannel_logout_uri=url + "/auth/backchannel-logout"
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with signals.protocol_message.connected_to(lambda _, message: told.append(message), app):
        yield url, app
    server.shutdown()


def test_signing_out_at_the_sandbox_ends_the_login_by_back_channel(
    served_host: tuple[str, Flask],
) -> None:
    url, app = served_host
    browser = requests.Session()  # the app's and the sandbox's cookies, as one browser keeps
    browser.trust_env = False
    started = browser.get(url + "/auth/login", allow_redirects=False, timeout=10)
    person = SandboxUser("alice", USERS["alice"], http=browser)
    callback = person.authorize(started.headers["Location"], url + "/auth/callback")
    assert browser.get(callback, allow_redirects=False, timeout=10).status_code == 303
    sid = browser.get(url + "/me", timeout=10).json()["sid"]
    other = requests.Session()  # another sandbox session of alice's, which stays
    other.trust_env = False
    started = other.get(url + "/auth/login", allow_redirects=False, timeout=10)
    again = SandboxUser("alice", USERS["alice"]).authorize(
        started.headers["Location"], url + "/auth/callback"
    )
    assert other.get(again, allow_redirects=False, timeout=10).status_code == 303
    assert other.get(url + "/me", timeout=10).json()["sid"] != sid

    sandbox_url = urlsplit(started.headers["Location"])
    home = browser.get(f"{sandbox_url.scheme}://{sandbox_url.netloc}/sandbox/", timeout=10)
    [sign_out] = parse_forms(home.text)
    action = f"{sandbox_url.scheme}://{sandbox_url.netloc}{sign_out.action}"
    assert "You are not signed in" in browser.post(action, data=sign_out.fields, timeout=10).text

    assert browser.get(url + "/me", timeout=10).status_code == 401
    assert other.get(url + "/me", timeout=10).status_code == 200

    # The logout token is told by its claims, never whole, and the app's answer after it.
    [token], told = app.config["received"], app.config["told"]
    arrived = [m for m in told if m.name.startswith("backchannel_logout")]
    assert [(m.name, m.direction) for m in arrived] == [
        ("backchannel_logout_request", "received"),
        ("backchannel_logout_response", "sent"),
    ]
    claims = jwt_parts(token)[1]
    assert claims["sid"] == sid and claims["sub"] == ALICE
    one_time = ("jti", "sid")
    expected = {k: shortened(v) if k in one_time else v for k, v in claims.items()}
    assert told_claims(arrived[0], "logout token") == expected
    assert dict(arrived[0].details)["logout_token"] == fingerprint(token)
    assert arrived[1].status == "200"
    shown = [value for message in told for _, value in message.details]
    for secret in (token, token.split(".")[2], claims["jti"], sid):
        assert not [value for value in shown if secret in value]

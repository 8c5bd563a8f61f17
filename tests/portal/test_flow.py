"""The flow trace: each step in order, and never a usable secret (issue: show the flow)."""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from flask_altitudeangel._client_key import ClientAssertion
from flask_altitudeangel._dpop import DPoPKey
from tests import peek
from tests.oauth_driver import SandboxUser
from tests.portal.conftest import DEMO_SECRET, REDIRECT_URI, SignIn, app_environment
from tests.portal.test_callback import pending_record
from tests.portal.test_client_features import register_key_client
from tests.services import RedisServer, ServiceProcess

SIGN_IN_STEPS = [
    "Sign in",
    "Authorization request (via the browser)",
    "Sign-in and consent",
    "Authorization response (callback)",
    "Token request",
    "Token response",
    "User profile",
]
# With a pushed authorization request (RFC 9126), which a server's metadata offers, one more.
PUSHED_SIGN_IN_STEPS = [SIGN_IN_STEPS[0], "Pushed authorization request", *SIGN_IN_STEPS[1:]]


def step_titles(page: str) -> list[str]:
    return re.findall(r'<span class="arrow-title">([^<]+)</span>', page)


def step_shown(page: str, title: str) -> dict[str, str]:
    """Return the parameters the page shows under the last step called ``title``, unescaped."""
    found: dict[str, str] | None = None
    for message in page.split('<li class="message">')[1:]:
        if f'<span class="arrow-title">{title}</span>' in message:
            pairs = re.findall(r"<dt>(.*?)</dt><dd><code>(.*?)</code></dd>", message, re.S)
            found = {html.unescape(k): html.unescape(v) for k, v in pairs}
    assert found is not None, f"no step {title!r}"
    return found


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Split a signed JWT into its header, its claims and its signature segment."""
    head, body, signature = token.split(".")
    return decoded(head), decoded(body), signature


def decoded(segment: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return found


def shortened(value: str) -> str:
    """What the page shows of a one-time value or a signature: its first 8 characters."""
    return f"{value[:8]}… ({len(value)} chars)"


def recorded(
    monkeypatch: pytest.MonkeyPatch, owner: type, name: str, token: Callable[[Any], str] = str
) -> list[str]:
    """Keep what ``owner.name`` returns, as ``token`` reads it; the real method still does the work.

    Proofs and client assertions only ever exist on the wire: this is how a test sees them.
    """
    made: list[str] = []
    real: Callable[..., Any] = getattr(owner, name)

    def keeping(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        made.append(token(answer))
        return answer

    monkeypatch.setattr(owner, name, keeping)
    return made


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


def test_dpop_proofs_are_shown_by_header_and_claims_with_the_signature_shortened(
    portal_app: Flask, sandbox: ServiceProcess, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every proof, for the token endpoint and the API alike, is made by DPoPKey.prove
    proofs = recorded(monkeypatch, DPoPKey, "prove", lambda proof: proof.token)
    client = portal_app.test_client()
    sign_in(client)  # DPoP-bound, as the sandbox's metadata offers
    client.get("/flight-reports")
    page = client.get("/flow").get_data(as_text=True)
    token_url, list_url = sandbox.url + "/oauth/v2/token", sandbox.url + "/flightReport"
    for_code = next(p for p in proofs if jwt_parts(p)[1]["htu"] == token_url)
    for_list = [p for p in proofs if jwt_parts(p)[1]["htu"] == list_url][-1]
    for title, proof, method in (
        ("Token request", for_code, "POST"),
        ("List reports", for_list, "GET"),
    ):
        facts = step_shown(page, title)
        header, claims, signature = jwt_parts(proof)
        assert claims["htm"] == method and abs(claims["iat"] - time.time()) < 60
        assert header["typ"] == "dpop+jwt" and "d" not in header["jwk"]
        assert json.loads(facts["DPoP proof header"]) == {
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": "EC P-256 public key",
        }
        expected = {**claims, "jti": shortened(claims["jti"])}
        if "ath" in claims:
            expected["ath"] = shortened(claims["ath"])
        assert json.loads(facts["DPoP proof claims"]) == expected
        assert facts["DPoP proof signature"] == shortened(signature)
    assert "ath" not in jwt_parts(for_code)[1]  # no access token yet to hash
    assert "ath" in jwt_parts(for_list)[1]
    login_id = str(peek.login_id(client))
    stored = json.dumps([asdict(s) for s in portal_app.extensions["portal_trace"].steps(login_id)])
    for proof in proofs:
        for whole in (proof, proof.split(".")[2], jwt_parts(proof)[1]["jti"]):
            assert whole not in page and whole not in stored


def test_the_pushed_request_and_the_client_assertion_are_shown_the_signature_shortened(
    redis_server: RedisServer,
    sandbox: ServiceProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_id, key_file = register_key_client(sandbox, tmp_path)
    env = app_environment(
        redis_server, sandbox, AA_CLIENT_ID=client_id, AA_CLIENT_KEY_FILE=str(key_file)
    )
    env["AA_PAR"] = "auto"  # offered by the sandbox's metadata, as is private_key_jwt
    del env["AA_CLIENT_SECRET"]
    client = create_app(env).test_client()
    assertions = recorded(monkeypatch, ClientAssertion, "sign")
    started = client.get("/login")
    assert len(assertions) == 1  # the pushed request authenticates as at the token endpoint
    callback = SandboxUser("alice", "wonderland").authorize(
        started.headers["Location"], REDIRECT_URI
    )
    assert client.get(callback.removeprefix("http://localhost:5000")).status_code == 303
    page = client.get("/flow").get_data(as_text=True)

    assert step_titles(page)[: len(PUSHED_SIGN_IN_STEPS)] == PUSHED_SIGN_IN_STEPS
    pushed = step_shown(page, "Pushed authorization request")
    assert pushed["endpoint"] == sandbox.url + "/oauth/v2/par"
    assert pushed["client authentication"].startswith("private_key_jwt")
    assert "client_secret" not in pushed
    header, claims, signature = jwt_parts(assertions[1])
    assert claims["iss"] == claims["sub"] == client_id and header["alg"] == "ES256"
    token_request = step_shown(page, "Token request")
    assert json.loads(token_request["client assertion header"]) == header
    shown_claims = json.loads(token_request["client assertion claims"])
    assert shown_claims == {**claims, "jti": shortened(claims["jti"])}
    assert token_request["client assertion signature"] == shortened(signature)
    for assertion in assertions:
        for whole in (assertion, assertion.split(".")[2], jwt_parts(assertion)[1]["jti"]):
            assert whole not in page


def test_a_refresh_shared_with_another_request_is_shown_with_the_version_both_got(
    portal_app: Flask, sign_in: SignIn, faults: Callable[..., None], redis_server: RedisServer
) -> None:
    first = portal_app.test_client()
    sign_in(first)
    cookie = portal_app.config["SESSION_COOKIE_NAME"]
    found = first.get_cookie(cookie)
    assert found is not None
    second = portal_app.test_client()  # the same browser's second tab
    second.set_cookie(cookie, found.value)
    login_id = str(peek.login_id(first))
    # The API refuses the token twice, once for each tab; the refresh's answer comes slowly, so
    # that the second tab finds the first one holding the refresh lock.
    faults("api", "invalid_token", count=2)
    faults("token", "drip", seconds=3, interval=0.5)
    answers: list[int] = []
    tab = threading.Thread(target=lambda: answers.append(first.get("/flight-reports").status_code))
    tab.start()
    lock = peek.token_store(portal_app).key(login_id, "lock")
    deadline = time.monotonic() + 20
    while not redis_server.client().exists(lock) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert second.get("/flight-reports").status_code == 200
    tab.join(30)
    assert answers == [200]

    page = first.get("/flow").get_data(as_text=True)
    titles = step_titles(page)
    assert titles.count("Refresh") == 1 and titles.count("Refresh (shared)") == 1
    own, shared = step_shown(page, "Refresh"), step_shown(page, "Refresh (shared)")
    token = peek.stored_token(first)
    assert token is not None
    assert own["token version"] == shared["token version"] == str(token.version)
    assert own["new access token"] == shared["new access token"]
    assert shared["reason"] == own["reason"] == "after a 401"
    assert "waited and used its token" in page or "had already refreshed" in page

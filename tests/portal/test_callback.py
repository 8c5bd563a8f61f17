"""The sign-in callback against hostile input (security checklist, section A)."""

from __future__ import annotations

import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from tests import peek
from tests.oauth_driver import SandboxUser
from tests.portal.conftest import (
    REDIRECT_URI,
    USERS,
    SignIn,
    token_requests,
)
from tests.services import RedisServer, ServiceProcess


def login_keys(redis_server: RedisServer) -> set[bytes]:
    return set(redis_server.client().scan_iter("portal:login:*"))


def authorize_params(client: FlaskClient, **query: str) -> dict[str, str]:
    response = client.get("/login", query_string=query)
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def callback_for(client: FlaskClient, username: str = "alice", **query: str) -> str:
    """Start a sign-in and let the user consent; return the callback URL, unvisited."""
    started = client.get("/login", query_string=query)
    person = SandboxUser(username, USERS[username])
    url = person.authorize(started.headers["Location"], REDIRECT_URI)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_full_sign_in_lands_on_the_reports(client: FlaskClient, sign_in: SignIn) -> None:
    response = sign_in(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/flight-reports"
    assert response.headers["Cache-Control"] == "no-store"
    page = client.get("/flight-reports")
    assert page.status_code == 200
    assert b"Your flight reports" in page.data


def test_wrong_state_is_refused_without_a_token_request(
    client: FlaskClient, sandbox: ServiceProcess, redis_server: RedisServer
) -> None:
    url = callback_for(client)
    forged = url.replace("state=", "state=x")
    before_tokens, before_keys = (
        token_requests(sandbox, "authorization_code"),
        login_keys(redis_server),
    )
    response = client.get(forged)
    assert response.status_code == 400
    assert b"Sign-in expired" in response.data
    assert token_requests(sandbox, "authorization_code") == before_tokens
    assert login_keys(redis_server) == before_keys


@pytest.mark.parametrize("query", ["code=abc", "", "foo=bar", "state=&code=abc"])
def test_missing_state_or_code_is_refused(client: FlaskClient, query: str) -> None:
    client.get("/login")
    response = client.get("/callback?" + query)
    assert response.status_code == 400
    assert b"Sign-in refused" in response.data and b"Nothing was saved" in response.data


def test_a_replayed_callback_is_refused(client: FlaskClient, sandbox: ServiceProcess) -> None:
    url = callback_for(client)
    assert client.get(url).status_code == 303
    before = token_requests(sandbox, "authorization_code")
    replay = client.get(url)
    assert replay.status_code == 400
    assert token_requests(sandbox, "authorization_code") == before


def test_an_attackers_callback_in_a_victims_browser_is_refused(
    portal_app: object, sandbox: ServiceProcess, redis_server: RedisServer
) -> None:
    attacker, victim = portal_app.test_client(), portal_app.test_client()  # type: ignore[attr-defined]
    attackers_callback = callback_for(attacker, "bob")
    victim.get("/login")
    before = token_requests(sandbox, "authorization_code")
    response = victim.get(attackers_callback)
    assert response.status_code == 400
    assert token_requests(sandbox, "authorization_code") == before


def test_an_injected_code_with_the_victims_state_fails_pkce(
    portal_app: object, sandbox: ServiceProcess, redis_server: RedisServer
) -> None:
    attacker, victim = portal_app.test_client(), portal_app.test_client()  # type: ignore[attr-defined]
    stolen_code = parse_qs(urlsplit(callback_for(attacker, "bob")).query)["code"][0]
    victims_callback = callback_for(victim, "alice")
    victim_state = parse_qs(urlsplit(victims_callback).query)["state"][0]
    before_keys = login_keys(redis_server)
    response = victim.get(
        "/callback?" + urlencode({"code": stolen_code, "state": victim_state, "iss": sandbox.url})
    )
    assert response.status_code == 400
    assert b"Sign-in failed" in response.data
    assert login_keys(redis_server) == before_keys


def test_authorize_request_uses_s256_with_a_fresh_verifier(client: FlaskClient) -> None:
    first, second = authorize_params(client), authorize_params(client)
    for params in (first, second):
        assert params["response_type"] == "code"
        assert params["client_id"] == "demo-portal"
        assert params["redirect_uri"] == REDIRECT_URI
        assert params["code_challenge_method"] == "S256"
        assert 43 <= len(params["code_challenge"]) <= 128
        assert "code_verifier" not in params
    assert first["code_challenge"] != second["code_challenge"]
    assert first["state"] != second["state"]
    verifiers = [pending_record(client, p["state"])["code_verifier"] for p in (first, second)]
    assert len(set(verifiers)) == 2
    assert all(43 <= len(v) <= 128 for v in verifiers)
    assert all(v not in first["state"] + second["state"] for v in verifiers)


def pending_record(client: FlaskClient, state: str) -> dict[str, object]:
    """Read and decrypt the stored attempt for ``state``, as only the app could."""
    redis = peek.portal_redis(client.application)
    blob = redis.get("portal:pending:" + hashlib.sha256(state.encode()).hexdigest())
    return json.loads(peek.pending_cipher(client.application).decrypt(blob))


def test_a_different_issuer_is_refused_before_the_token_request(
    client: FlaskClient, sandbox: ServiceProcess
) -> None:
    url = callback_for(client)
    mixed_up = url.replace("iss=", "iss=https%3A%2F%2Fevil.example&was=")
    before = token_requests(sandbox, "authorization_code")
    response = client.get(mixed_up)
    assert response.status_code == 400
    assert b"another" in response.data or b"other than" in response.data
    assert token_requests(sandbox, "authorization_code") == before


def test_a_missing_issuer_is_refused_when_required(
    client: FlaskClient, sandbox: ServiceProcess
) -> None:
    url = callback_for(client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if k != "iss"}
    before = token_requests(sandbox, "authorization_code")
    response = client.get("/callback?" + urlencode(query))
    assert response.status_code == 400
    assert token_requests(sandbox, "authorization_code") == before


def test_random_callbacks_cause_no_token_requests(
    client: FlaskClient, sandbox: ServiceProcess
) -> None:
    client.get("/login")
    before = token_requests(sandbox, "authorization_code")
    for _ in range(200):
        query = urlencode({"code": secrets.token_urlsafe(16), "state": secrets.token_urlsafe(32)})
        assert client.get("/callback?" + query).status_code == 400
    assert token_requests(sandbox, "authorization_code") == before


def test_sign_in_attempts_write_no_session_and_are_capped_per_browser(
    client: FlaskClient, redis_server: RedisServer
) -> None:
    sessions_before = set(redis_server.client().scan_iter("portal:session:*"))
    starts = [client.get("/login") for _ in range(1000)]
    assert all(s.status_code == 302 for s in starts)
    assert set(redis_server.client().scan_iter("portal:session:*")) == sessions_before
    assert client.get_cookie("portal_session") is None
    jar = [c for c in client._cookies.values() if c.key.startswith("aa_signin_")]
    assert len(jar) == 5  # only the newest five attempts can still come back
    redis = redis_server.client()
    for start in starts[-5:]:
        state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
        key = "portal:pending:" + hashlib.sha256(state.encode()).hexdigest()
        assert 0 < redis.ttl(key) <= 600
        assert redis.memory_usage(key) < 512


def test_an_attempt_pushed_out_by_newer_ones_cannot_complete(
    client: FlaskClient, sandbox: ServiceProcess
) -> None:
    oldest = callback_for(client)
    for _ in range(5):
        client.get("/login")
    before = token_requests(sandbox, "authorization_code")
    response = client.get(oldest)
    assert response.status_code == 400
    assert token_requests(sandbox, "authorization_code") == before


def test_an_unsafe_next_ends_on_the_default_page(client: FlaskClient, sign_in: SignIn) -> None:
    response = sign_in(client, query={"next": "//evil.example/steal"})
    assert response.headers["Location"] == "/flight-reports"


def test_a_safe_next_is_honoured(client: FlaskClient, sign_in: SignIn) -> None:
    response = sign_in(client, query={"next": "/profile"})
    assert response.headers["Location"] == "/profile"


def test_spoofed_host_headers_do_not_change_the_redirect_uri(client: FlaskClient) -> None:
    spoofed = {
        "Host": "evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
    }
    response = client.get("/login", headers=spoofed)
    params = parse_qs(urlsplit(response.headers["Location"]).query)
    assert params["redirect_uri"] == [REDIRECT_URI]


def test_a_sign_in_with_spoofed_host_headers_still_completes(
    client: FlaskClient, sandbox: ServiceProcess
) -> None:
    spoofed = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    started = client.get("/login", headers=spoofed)
    callback = SandboxUser("alice", USERS["alice"]).authorize(
        started.headers["Location"], REDIRECT_URI
    )
    parts = urlsplit(callback)
    # The sandbox checks that the token request's redirect_uri equals the authorize one.
    finished = client.get(f"{parts.path}?{parts.query}", headers=spoofed)
    assert finished.status_code == 303
    assert finished.headers["Location"] == "/flight-reports"


def test_two_tabs_signing_in_at_once_both_come_back(client: FlaskClient) -> None:
    first_tab = callback_for(client, "alice")
    second_tab = callback_for(client, "alice")
    assert client.get(second_tab).status_code == 303
    assert client.get(first_tab).status_code == 303

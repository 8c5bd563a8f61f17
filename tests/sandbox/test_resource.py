"""Resource protection: Bearer tokens in the header only, exact expiry, RFC 6750 challenges."""

from __future__ import annotations

import base64
import json
import time

import requests

from tests.sandbox.conftest import Login, fresh_login
from tests.sandbox.flow import READONLY_CLIENT, READONLY_SECRET, SandboxBrowser
from tests.sandbox.oauth import api, client_token
from tests.services import ServiceProcess


def test_no_token_gets_a_bare_bearer_challenge(base_url: str) -> None:
    for headers in ({}, {"Authorization": "Basic YWxpY2U6d29uZGVybGFuZA=="}):
        response = requests.get(base_url + "/userProfile", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_in_the_query_string_is_ignored(base_url: str, alice: Login) -> None:
    response = requests.get(
        base_url + "/userProfile", params={"access_token": alice.access_token}, timeout=5
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["urn:oauth:scope"] += " manage_users"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_malformed_or_forged_tokens_are_invalid_token(base_url: str, alice: Login) -> None:
    for token in ("garbage", "a.b.c", _tampered(alice.access_token), alice.refresh_token):
        response = api(base_url, "GET", "/userProfile", token)
        assert response.status_code == 401, token
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer error="invalid_token", error_description="')
        assert response.json()["error"] == "invalid_token"


def test_user_profile_of_each_user(base_url: str, alice: Login, bob: Login) -> None:
    alice_profile = api(base_url, "GET", "/userProfile", alice.access_token).json()
    assert alice_profile == {
        "aa_id": "aa-user-5f1c2a9e-alice",
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": "Liddell",
        "country": "GB",
        "is_pro": True,
        "unit_of_measure": "Metric",
    }
    bob_profile = api(base_url, "GET", "/userProfile", bob.access_token).json()
    assert bob_profile["first_name"] == "Bob"
    assert bob_profile["unit_of_measure"] == "UsImperial"


def test_missing_scope_is_a_401_naming_the_scope(
    base_url: str, bob_browser: SandboxBrowser
) -> None:
    login = fresh_login(bob_browser, scope="query_mapdata")
    response = api(base_url, "GET", "/userProfile", login.access_token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="query_userinfo"'
    )
    assert response.json()["error"] == "insufficient_scope"
    flights = api(base_url, "GET", "/flightReport", login.access_token)
    assert flights.headers["WWW-Authenticate"].endswith('scope="manage_flightreports"')


def test_client_token_cannot_act_for_a_user(base_url: str) -> None:
    token = client_token(base_url, "query_userinfo manage_flightreports")
    for path in ("/userProfile", "/flightReport"):
        response = api(base_url, "GET", path, token)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert response.json()["error_description"] == "A user token is required."


def test_readonly_client_tokens_work_for_what_they_hold(base_url: str) -> None:
    token = client_token(base_url, "query_mapdata", READONLY_CLIENT, READONLY_SECRET)
    response = api(base_url, "GET", "/v2/mapdata/geojson?n=51.5&e=-0.9&s=51.4&w=-1.0", token)
    assert response.status_code == 200


def test_access_token_expires_exactly(short_sandbox: ServiceProcess) -> None:
    login = fresh_login(SandboxBrowser(short_sandbox.url))
    assert login.body["expires_in"] == 2
    payload = login.access_token.split(".")[1]
    exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
    time.sleep(max(0.0, exp - time.time() - 0.8))
    assert api(short_sandbox.url, "GET", "/userProfile", login.access_token).status_code == 200
    time.sleep(max(0.0, exp - time.time() + 0.05))
    expired = api(short_sandbox.url, "GET", "/userProfile", login.access_token)
    assert expired.status_code == 401
    assert expired.json()["error_description"] == "The access token has expired."
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]


def test_tokens_of_another_issuer_are_refused(
    short_sandbox: ServiceProcess, alice: Login, base_url: str
) -> None:
    # Both sandboxes share the signing key in Redis, but not the issuer.
    response = api(short_sandbox.url, "GET", "/userProfile", alice.access_token)
    assert response.status_code == 401
    assert api(base_url, "GET", "/userProfile", alice.access_token).status_code == 200

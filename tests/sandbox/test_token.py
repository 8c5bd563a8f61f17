"""The token endpoint: client authentication, the three grants, PKCE and single-use codes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import quote_plus

import requests

from tests.sandbox.conftest import ALL_SCOPES
from tests.sandbox.flow import (
    DEMO_SECRET,
    READONLY_CLIENT,
    READONLY_SECRET,
    SandboxBrowser,
)
from tests.sandbox.oauth import api, client_token, exchange_code, register_client, token_request

TOKEN = "/oauth/v2/token"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_code_exchange_answers_the_full_token_response(alice_browser: SandboxBrowser) -> None:
    code = alice_browser.authorize(scope=ALL_SCOPES).code
    response = exchange_code(alice_browser.base_url, code)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == set(ALL_SCOPES.split())
    assert body["access_token"].count(".") == 2
    assert len(body["refresh_token"]) >= 40


def test_odd_secret_form_encoded_is_accepted_and_raw_is_refused(base_url: str) -> None:
    good = token_request(base_url, {"grant_type": "client_credentials", "scope": "query_mapdata"})
    assert good.status_code == 200
    raw = (
        "grant_type=client_credentials&scope=query_mapdata&client_id=demo-portal"
        f"&client_secret={DEMO_SECRET}"
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    bad = requests.post(base_url + TOKEN, data=raw, headers=headers, timeout=5)
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_basic_authentication_works_with_the_odd_secret(base_url: str) -> None:
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    response = token_request(base_url, data, basic=True)
    assert response.status_code == 200, response.text


def test_basic_credentials_are_form_decoded(base_url: str) -> None:
    # RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded, so '+' is a space.
    secret = "a secret with spaces+plus"
    client_id = register_client(
        base_url,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic",
        scopes=["query_mapdata"],
    )["client_id"]
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    assert "+" in pair and "%2B" in pair
    headers = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    response = requests.post(base_url + TOKEN, data=data, headers=headers, timeout=5)
    assert response.status_code == 200, response.text


def test_basic_credentials_sent_unencoded_still_work(base_url: str) -> None:
    # Authlib's client and requests' HTTPBasicAuth send the odd secret as it is.
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    response = requests.post(
        base_url + TOKEN, data=data, auth=("demo-portal", DEMO_SECRET), timeout=5
    )
    assert response.status_code == 200, response.text


def test_wrong_secret_and_unknown_client_are_401_invalid_client(base_url: str) -> None:
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    for client_id, secret, basic in [
        ("demo-portal", "wrong", False),
        ("demo-portal", "wrong", True),
        ("nobody", "x", False),
        ("nobody", "x", True),
    ]:
        response = token_request(base_url, data, client_id, secret, basic=basic)
        assert response.status_code == 401, (client_id, basic)
        body = response.json()
        assert body["error"] == "invalid_client"
        assert body["error_description"]


def test_no_client_authentication_is_invalid_client(base_url: str) -> None:
    response = requests.post(base_url + TOKEN, data={"grant_type": "client_credentials"}, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_malformed_token_requests_are_invalid_request(base_url: str) -> None:
    form = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    as_json = requests.post(base_url + TOKEN, json=form, timeout=5)
    in_url = requests.post(base_url + TOKEN + "?grant_type=client_credentials", data=form)
    repeated = requests.post(
        base_url + TOKEN,
        data="grant_type=client_credentials&grant_type=refresh_token&client_id=demo-portal",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    both = token_request(base_url, {**form, "client_secret": "x"}, basic=True)
    for response in (as_json, in_url, repeated, both):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert response.json()["error_description"]


def test_unsupported_grant_type(base_url: str) -> None:
    response = token_request(base_url, {"grant_type": "password", "username": "alice"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_missing_grant_type_is_invalid_request(base_url: str) -> None:
    # RFC 6749 §5.2: a missing parameter is invalid_request; unsupported_grant_type is for a
    # grant type the server does not know.
    for data in ({"scope": "query_mapdata"}, {"grant_type": "", "scope": "query_mapdata"}):
        response = token_request(base_url, data)
        assert response.status_code == 400, data
        assert response.json()["error"] == "invalid_request", data
        assert "grant_type" in response.json()["error_description"]


def test_client_credentials_gives_no_refresh_token(base_url: str) -> None:
    response = token_request(
        base_url, {"grant_type": "client_credentials", "scope": "query_mapdata query_mapairdata"}
    )
    body = response.json()
    assert response.status_code == 200
    assert "refresh_token" not in body
    assert body["scope"] == "query_mapdata query_mapairdata"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900


def test_client_credentials_refuses_undeclared_or_missing_scope(base_url: str) -> None:
    undeclared = token_request(
        base_url,
        {"grant_type": "client_credentials", "scope": "manage_flightreports"},
        READONLY_CLIENT,
        READONLY_SECRET,
    )
    missing = token_request(base_url, {"grant_type": "client_credentials"})
    unknown = token_request(base_url, {"grant_type": "client_credentials", "scope": "fly"})
    for response in (undeclared, missing, unknown):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"


def test_pkce_round_trip_and_failures(alice_browser: SandboxBrowser) -> None:
    base = alice_browser.base_url
    verifier = secrets.token_urlsafe(48)
    challenge = {"code_challenge": s256(verifier), "code_challenge_method": "S256"}

    code = alice_browser.authorize(scope="query_userinfo", **challenge).code
    assert exchange_code(base, code, code_verifier=verifier).status_code == 200

    code = alice_browser.authorize(scope="query_userinfo", **challenge).code
    mismatch = exchange_code(base, code, code_verifier=secrets.token_urlsafe(48))
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "invalid_grant"
    # A failed check consumes nothing: the right verifier still works.
    assert exchange_code(base, code, code_verifier=verifier).status_code == 200

    code = alice_browser.authorize(scope="query_userinfo", **challenge).code
    missing = exchange_code(base, code)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"

    code = alice_browser.authorize(scope="query_userinfo").code
    unexpected = exchange_code(base, code, code_verifier=verifier)
    assert unexpected.status_code == 400


def test_wrong_redirect_uri_is_invalid_grant(alice_browser: SandboxBrowser) -> None:
    code = alice_browser.authorize(scope="query_userinfo").code
    base = alice_browser.base_url
    wrong = exchange_code(base, code, redirect_uri="http://localhost:5000/callback")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    missing = token_request(base, {"grant_type": "authorization_code", "code": code})
    assert missing.json()["error"] == "invalid_grant"


def test_code_of_another_client_is_invalid_grant(alice_browser: SandboxBrowser) -> None:
    code = alice_browser.authorize(scope="query_userinfo").code
    response = exchange_code(
        alice_browser.base_url, code, client_id=READONLY_CLIENT, secret=READONLY_SECRET
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unknown_or_missing_code(base_url: str) -> None:
    unknown = exchange_code(base_url, "not-a-code")
    assert unknown.json()["error"] == "invalid_grant"
    missing = token_request(base_url, {"grant_type": "authorization_code"})
    assert missing.json()["error"] == "invalid_request"


def test_code_reuse_fails_and_revokes_the_tokens_it_gave(alice_browser: SandboxBrowser) -> None:
    base = alice_browser.base_url
    code = alice_browser.authorize(scope=ALL_SCOPES).code
    first = exchange_code(base, code).json()
    assert api(base, "GET", "/userProfile", first["access_token"]).status_code == 200

    again = exchange_code(base, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert api(base, "GET", "/userProfile", first["access_token"]).status_code == 401
    refreshed = token_request(
        base, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_client_token_has_the_client_as_subject(base_url: str) -> None:
    token = client_token(base_url, "query_mapdata")
    payload = token.split(".")[1]
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b'"sub":"demo-portal"' in claims
    assert b'"sid"' not in claims


def test_plain_http_under_a_non_loopback_host_name(base_url: str) -> None:
    # docker-compose reaches the sandbox as http://sandbox:5001, which is not loopback.
    response = requests.post(
        base_url + TOKEN,
        data={
            "grant_type": "client_credentials",
            "scope": "query_mapdata",
            "client_id": "demo-portal",
            "client_secret": DEMO_SECRET,
        },
        headers={"Host": "sandbox:5001"},
        timeout=5,
    )
    assert response.status_code == 200, response.text

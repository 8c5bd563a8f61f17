"""aa-public mode: only what the platform's public documents describe, nothing the RFCs add."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.sandbox.conftest import ALL_SCOPES, Login, fresh_login
from tests.sandbox.flow import DEMO_REDIRECT, SandboxBrowser, callback_of
from tests.sandbox.logout_receiver import LogoutReceiver
from tests.sandbox.oauth import (
    api,
    client_token,
    exchange_code,
    metric,
    refresh,
    register_client,
    token_request,
)
from tests.services import ADMIN_SECRET, ServiceProcess

REPORT = {
    "name": "Public mode flight",
    "flight_type": "rec",
    "timezone": "Europe/London",
    "start": "2031-04-01T10:00:00",
    "end": "2031-04-01T11:00:00",
    "radius_meters": 300,
    "loc": {"lat": 51.50, "lng": -1.00},
}
BOX = "n=51.7&e=-0.5&s=51.3&w=-1.3"


@pytest.fixture(scope="module")
def url(public_sandbox: ServiceProcess) -> str:
    return public_sandbox.url


@pytest.fixture(scope="module")
def public_browser(url: str) -> SandboxBrowser:
    browser = SandboxBrowser(url)
    browser.authorize(username="alice", scope=ALL_SCOPES)
    return browser


@pytest.fixture
def login(public_browser: SandboxBrowser) -> Login:
    return fresh_login(public_browser)


def claims_of(token: str) -> dict[str, Any]:
    """Read a JWT's claims without verifying it: the sandbox checks it when it is used."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_discovery_and_jwks_are_not_there(url: str) -> None:
    for path in (
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ):
        assert requests.get(url + path, timeout=5).status_code == 404, path
    assert "discovery document" not in requests.get(url + "/sandbox/", timeout=5).text


def test_no_openid_connect(url: str, public_browser: SandboxBrowser, login: Login) -> None:
    error = callback_of(public_browser.start(scope="openid query_userinfo", nonce="n"))
    assert error.params["error"] == "invalid_scope"
    registration = requests.post(
        url + "/_sandbox/clients",
        json={"client_id": "public-openid", "scopes": ["openid"]},
        headers={"X-Sandbox-Admin": ADMIN_SECRET},
        timeout=5,
    )
    assert registration.status_code == 400 and "scopes" in registration.json()["fields"]
    assert "id_token" not in login.body
    assert "id_token" not in refresh(url, login.refresh_token).json()
    profile = api(url, "GET", "/userProfile", login.access_token).json()
    assert set(profile) == {
        "aa_id",
        "email",
        "first_name",
        "last_name",
        "country",
        "is_pro",
        "unit_of_measure",
    }


def test_signing_out_tells_no_client(url: str) -> None:
    with LogoutReceiver() as client_end:
        client = register_client(
            url,
            scopes=["query_userinfo"],
            redirect_uris=[DEMO_REDIRECT],
            backchannel_logout_uri=client_end.url,
        )
        browser = SandboxBrowser(url)
        callback = browser.authorize(client_id=client["client_id"], scope="query_userinfo")
        secret = client["client_secret"]
        exchange_code(url, callback.code, client_id=client["client_id"], secret=secret)
        browser.submit(browser.get("/sandbox/"))
        assert "signed in to the sandbox as" not in browser.get("/sandbox/").text
        assert client_end.received == []
    assert metric(url, "sandbox_backchannel_logouts_total", outcome="delivered") == 0


def test_no_revocation_endpoint(url: str, login: Login) -> None:
    response = token_request(url, {"token": login.refresh_token}, path="/oauth/v2/revoke")
    assert response.status_code == 404
    assert refresh(url, login.refresh_token).status_code == 200


def test_no_pushed_authorization_requests(url: str, public_browser: SandboxBrowser) -> None:
    data = {"response_type": "code", "redirect_uri": DEMO_REDIRECT, "scope": "query_userinfo"}
    assert token_request(url, data, path="/oauth/v2/par").status_code == 404
    # A request_uri is no parameter the platform knows: without a redirect_uri it is refused.
    page = public_browser.get(
        "/oauth/v2/authorize", client_id="demo-portal", request_uri="urn:x", response_type="code"
    )
    assert page.status_code == 400
    assert "no redirect_uri" in page.text


def test_no_end_session_endpoint(public_browser: SandboxBrowser) -> None:
    response = public_browser.get("/oauth/v2/logout", client_id="demo-portal")
    assert response.status_code == 404
    assert "signed in to the sandbox as" in public_browser.get("/sandbox/").text


def test_authorization_responses_carry_no_iss(url: str, public_browser: SandboxBrowser) -> None:
    callback = public_browser.authorize(scope="query_userinfo", state="pub")
    assert callback.params["state"] == "pub"
    assert "iss" not in callback.params
    error = callback_of(public_browser.start(scope="manage_users"))
    assert error.params["error"] == "invalid_scope"
    assert "iss" not in error.params


def test_flight_reports_can_be_filed_and_completed_but_not_read(url: str, login: Login) -> None:
    created = api(url, "PUT", "/flightReport", login.access_token, json=REPORT)
    assert created.status_code == 201
    flight_id = created.json()["flightId"]
    listing = api(url, "GET", "/flightReport", login.access_token)
    assert listing.status_code == 405
    assert listing.headers["Allow"].split(", ").count("PUT") == 1
    assert "GET" not in listing.headers["Allow"]
    one = api(url, "GET", f"/flightReport/{flight_id}", login.access_token)
    assert one.status_code == 405
    assert "GET" not in one.headers["Allow"]
    assert api(url, "DELETE", f"/flightReport/{flight_id}", login.access_token).status_code == 200
    again = api(url, "DELETE", f"/flightReport/{flight_id}", login.access_token)
    assert again.status_code == 409


def test_refresh_hands_back_the_same_refresh_token_which_stays_valid(
    url: str, login: Login
) -> None:
    first = refresh(url, login.refresh_token)
    assert first.status_code == 200
    assert first.json()["refresh_token"] == login.refresh_token
    assert first.json()["access_token"] != login.access_token
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: refresh(url, login.refresh_token), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert {r.json()["refresh_token"] for r in responses} == {login.refresh_token}
    # Nothing was revoked: every access token of the login still works.
    for token in (login.access_token, first.json()["access_token"]):
        assert api(url, "GET", "/userProfile", token).status_code == 200


def test_pkce_is_accepted_but_not_required(url: str, public_browser: SandboxBrowser) -> None:
    plain = public_browser.authorize(scope="query_userinfo")
    assert exchange_code(url, plain.code).status_code == 200
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    pkce = public_browser.authorize(
        scope="query_userinfo", code_challenge=challenge, code_challenge_method="S256"
    )
    assert exchange_code(url, pkce.code, code_verifier="x" * 43).json()["error"] == "invalid_grant"
    pkce = public_browser.authorize(
        scope="query_userinfo", code_challenge=challenge, code_challenge_method="S256"
    )
    assert exchange_code(url, pkce.code, code_verifier=verifier).status_code == 200


def test_access_tokens_live_fifteen_minutes(login: Login) -> None:
    assert login.body["expires_in"] == 900
    claims = claims_of(login.access_token)
    assert claims["exp"] - claims["iat"] == 900
    assert login.body["token_type"] == "Bearer"


def test_client_secret_only_in_the_form_body(url: str) -> None:
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    basic = token_request(url, data, basic=True)
    assert basic.status_code == 401
    assert basic.json()["error"] == "invalid_client"
    assert token_request(url, data).status_code == 200


def test_missing_scope_is_401_insufficient_scope(url: str) -> None:
    token = client_token(url, "talk_tower")
    response = api(url, "GET", f"/v2/mapdata/geojson?{BOX}", token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="query_mapdata query_mapairdata"'
    )


def test_client_credentials_also_carry_a_refresh_token(url: str) -> None:
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    first = token_request(url, data).json()
    assert first["refresh_token"]
    renewed = refresh(url, first["refresh_token"])
    assert renewed.status_code == 200
    body = renewed.json()
    assert body["refresh_token"] == first["refresh_token"]
    assert claims_of(body["access_token"])["sub"] == "demo-portal"
    assert "sid" not in claims_of(body["access_token"])
    assert api(url, "GET", f"/v2/mapdata/geojson?{BOX}", body["access_token"]).status_code == 200


def test_report_features_carry_no_sandbox_fields(url: str, login: Login) -> None:
    flight_id = api(url, "PUT", "/flightReport", login.access_token, json=REPORT).json()["flightId"]
    body = api(url, "GET", f"/v2/mapdata/geojson?{BOX}", login.access_token).json()
    feature = next(f for f in body["features"] if f["id"] == flight_id)
    properties = feature["properties"]
    assert properties["detailedCategory"] == "user:flight_plan_report"
    assert properties["isOwner"] is True
    assert properties["display"]["title"] == "Public mode flight"
    assert not {"flightId", "reference", "status"} & set(properties)

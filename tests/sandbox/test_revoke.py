"""RFC 7009 revocation: revoked means revoked at once."""

from __future__ import annotations

import requests

from tests.sandbox.conftest import Login
from tests.sandbox.flow import READONLY_CLIENT, READONLY_SECRET
from tests.sandbox.oauth import api, refresh, revoke, token_request


def test_revoking_a_refresh_token_kills_its_family(base_url: str, alice: Login) -> None:
    response = revoke(base_url, alice.refresh_token, hint="refresh_token")
    assert response.status_code == 200
    assert api(base_url, "GET", "/userProfile", alice.access_token).status_code == 401
    assert refresh(base_url, alice.refresh_token).json()["error"] == "invalid_grant"


def test_revoking_an_access_token_denies_it_only(base_url: str, alice: Login) -> None:
    assert revoke(base_url, alice.access_token, hint="access_token").status_code == 200
    denied = api(base_url, "GET", "/userProfile", alice.access_token)
    assert denied.status_code == 401
    assert "revoked" in denied.json()["error_description"]
    renewed = refresh(base_url, alice.refresh_token)
    assert renewed.status_code == 200
    assert api(base_url, "GET", "/userProfile", renewed.json()["access_token"]).status_code == 200


def test_a_wrong_hint_still_finds_the_token(base_url: str, alice: Login) -> None:
    assert revoke(base_url, alice.access_token, hint="refresh_token").status_code == 200
    assert api(base_url, "GET", "/userProfile", alice.access_token).status_code == 401


def test_unknown_token_is_fine(base_url: str) -> None:
    response = revoke(base_url, "no-such-token")
    assert response.status_code == 200


def test_revocation_needs_the_client_and_a_token(base_url: str, alice: Login) -> None:
    anonymous = requests.post(
        base_url + "/oauth/v2/revoke", data={"token": alice.refresh_token}, timeout=5
    )
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    missing = token_request(base_url, {}, path="/oauth/v2/revoke")
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    bad_hint = token_request(
        base_url, {"token": "x", "token_type_hint": "id_token"}, path="/oauth/v2/revoke"
    )
    assert bad_hint.json()["error"] == "unsupported_token_type"
    assert refresh(base_url, alice.refresh_token).status_code == 200


def test_another_client_cannot_revoke_my_token(base_url: str, alice: Login) -> None:
    response = token_request(
        base_url,
        {"token": alice.refresh_token},
        READONLY_CLIENT,
        READONLY_SECRET,
        path="/oauth/v2/revoke",
    )
    assert response.status_code == 400
    assert refresh(base_url, alice.refresh_token).status_code == 200

"""Clients registered through the admin API: confidential with a secret, public with PKCE."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.sandbox.flow import SandboxBrowser, callback_of
from tests.sandbox.oauth import exchange_code, pkce_pair, register_client, token_request

CALLBACK = "http://127.0.0.1:5000/callback"


def test_a_registered_client_signs_a_user_in(base_url: str) -> None:
    client = register_client(
        base_url, name="Registered Tool", redirect_uris=[CALLBACK], scopes=["query_userinfo"]
    )
    assert client["token_endpoint_auth_method"] == "client_secret_post"
    assert len(client["client_secret"]) >= 32
    browser = SandboxBrowser(base_url)
    page = browser.sign_in(
        browser.start(client_id=client["client_id"], scope="query_userinfo"), "bob", "builder"
    )
    assert "Registered Tool" in page.text
    callback = callback_of(browser.submit(page, button="allow"))
    exchanged = exchange_code(
        base_url, callback.code, client_id=client["client_id"], secret=client["client_secret"]
    )
    assert exchanged.status_code == 200, exchanged.text
    wrong = token_request(
        base_url,
        {"grant_type": "client_credentials", "scope": "query_userinfo"},
        client["client_id"],
        "not-the-secret",
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_a_given_secret_works_in_the_body_and_in_basic(base_url: str) -> None:
    client = register_client(
        base_url, client_secret="a+given/secret=&%?#", scopes=["query_mapdata"]
    )
    assert client["client_secret"] == "a+given/secret=&%?#"
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    for basic in (False, True):
        response = token_request(
            base_url, data, client["client_id"], client["client_secret"], basic
        )
        assert response.status_code == 200, response.text


def test_an_existing_client_id_is_a_conflict(base_url: str, admin_headers: dict[str, str]) -> None:
    client = register_client(base_url)
    for client_id in (client["client_id"], "demo-portal"):
        response = requests.post(
            base_url + "/_sandbox/clients",
            json={"client_id": client_id, "scopes": ["query_userinfo"]},
            headers=admin_headers,
            timeout=5,
        )
        assert response.status_code == 409
        assert response.json()["error"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_id": "has space", "scopes": ["query_userinfo"]}, "client_id"),
        ({"scopes": ["query_userinfo"]}, "client_id"),
        ({"client_id": "x1", "scopes": []}, "scopes"),
        ({"client_id": "x2", "scopes": ["root"]}, "scopes"),
        (
            {"client_id": "x3", "scopes": ["query_userinfo"], "redirect_uris": ["ftp://x/cb"]},
            "redirect_uris",
        ),
        (
            {"client_id": "x4", "scopes": ["query_userinfo"], "redirect_uris": "http://x/cb"},
            "redirect_uris",
        ),
        (
            {
                "client_id": "x5",
                "scopes": ["query_userinfo"],
                "post_logout_redirect_uris": ["http://x#f"],
            },
            "post_logout_redirect_uris",
        ),
        (
            {
                "client_id": "x6",
                "scopes": ["query_userinfo"],
                "token_endpoint_auth_method": "magic",
            },
            "token_endpoint_auth_method",
        ),
        (
            {
                "client_id": "x7",
                "scopes": ["query_userinfo"],
                "token_endpoint_auth_method": "none",
                "client_secret": "12345678",
            },
            "client_secret",
        ),
        (
            {"client_id": "x8", "scopes": ["query_userinfo"], "client_secret": "short"},
            "client_secret",
        ),
        (
            {"client_id": "x8b", "scopes": ["openid"], "backchannel_logout_uri": ["http://x/b"]},
            "backchannel_logout_uri",
        ),
        (
            {"client_id": "x9", "scopes": ["query_userinfo"], "dpop_bound_access_tokens": "yes"},
            "dpop_bound_access_tokens",
        ),
        (
            {
                "client_id": "x10",
                "scopes": ["query_userinfo"],
                "require_pushed_authorization_requests": 1,
            },
            "require_pushed_authorization_requests",
        ),
        ({"client_id": "x11", "name": "", "scopes": ["query_userinfo"]}, "name"),
    ],
)
def test_registrations_are_validated(
    base_url: str, admin_headers: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = requests.post(
        base_url + "/_sandbox/clients", json=body, headers=admin_headers, timeout=5
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]
    if "client_id" in body and field != "client_id":
        # Nothing was registered: the same id is free for a valid registration.
        register_client(base_url, client_id=body["client_id"])


def test_client_registration_needs_the_admin_secret(base_url: str) -> None:
    body = {"client_id": "sneaky", "scopes": ["query_userinfo"]}
    for headers in ({}, {"X-Sandbox-Admin": "wrong"}):
        response = requests.post(base_url + "/_sandbox/clients", json=body, headers=headers)
        assert response.status_code == 403


def test_a_public_client_must_use_pkce(base_url: str) -> None:
    client = register_client(base_url, token_endpoint_auth_method="none", redirect_uris=[CALLBACK])
    assert "client_secret" not in client
    client_id = client["client_id"]
    browser = SandboxBrowser(base_url)
    refused = callback_of(browser.start(client_id=client_id, scope="query_userinfo"))
    assert refused.params["error"] == "invalid_request"
    verifier, challenge = pkce_pair()
    callback = browser.authorize(
        client_id=client_id,
        scope="query_userinfo",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    without = exchange_code(base_url, callback.code, client_id=client_id, secret=None)
    assert without.json()["error"] == "invalid_request"
    tokens = exchange_code(
        base_url, callback.code, client_id=client_id, secret=None, code_verifier=verifier
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["refresh_token"]


def test_a_public_client_has_no_client_credentials_and_no_secret(base_url: str) -> None:
    client_id = register_client(base_url, token_endpoint_auth_method="none")["client_id"]
    data = {"grant_type": "client_credentials", "scope": "query_userinfo"}
    assert token_request(base_url, data, client_id, secret=None).status_code in (400, 401)
    faked = token_request(base_url, data, client_id, secret="anything-at-all")
    assert faked.status_code == 401
    assert faked.json()["error"] == "invalid_client"


def test_a_confidential_client_cannot_skip_its_secret(base_url: str) -> None:
    for data in (
        {"grant_type": "client_credentials", "scope": "query_mapdata"},
        {"grant_type": "refresh_token", "refresh_token": "anything"},
    ):
        response = token_request(base_url, data, "demo-portal", secret=None)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

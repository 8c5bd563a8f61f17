"""DPoP at the token endpoint: refusals that spend nothing, refresh binding, modes without it."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.sandbox.conftest import ALL_SCOPES
from tests.sandbox.dpop_client import DELETE, DPoPKey, dpop_api, proof_header
from tests.sandbox.flow import DEMO_REDIRECT, SandboxBrowser
from tests.sandbox.oauth import (
    api,
    exchange_code,
    pkce_pair,
    refresh,
    register_client,
    token_request,
)
from tests.sandbox.test_aa_public import claims_of
from tests.services import ServiceProcess

TOKEN = "/oauth/v2/token"
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "scope": "query_mapdata"}
BOX = "/v2/mapdata/geojson?n=51.7&e=-0.5&s=51.3&w=-1.3"


def proved(base_url: str, key: DPoPKey, **proof: Any) -> dict[str, str]:
    return proof_header(key, base_url + TOKEN, **proof)


@pytest.mark.parametrize(
    ("proof", "why"),
    [
        ({"htm": "GET"}, "wrong htm"),
        ({"htu": "REVOKE"}, "wrong htu"),
        ({"iat": int(time.time()) - 120}, "stale iat"),
        ({"jti": DELETE}, "no jti"),
        ({"header": {"alg": "none"}}, "alg none"),
    ],
)
def test_bad_proofs_at_the_token_endpoint_spend_nothing(
    alice_browser: SandboxBrowser, proof: dict[str, Any], why: str
) -> None:
    base_url = alice_browser.base_url
    key = DPoPKey()
    if proof.get("htu") == "REVOKE":
        proof = {"htu": base_url + "/oauth/v2/revoke"}
    code = alice_browser.authorize(scope="query_userinfo").code
    refused = exchange_code(base_url, code, headers=proved(base_url, key, **proof))
    assert refused.status_code == 400, why
    assert refused.json()["error"] == "invalid_dpop_proof", why
    # The code was not spent: a good proof still exchanges it.
    good = exchange_code(base_url, code, headers=proved(base_url, key))
    assert good.status_code == 200, why
    assert good.json()["token_type"] == "DPoP"


def test_a_replayed_proof_at_the_token_endpoint_is_refused(base_url: str) -> None:
    headers = proved(base_url, DPoPKey())
    assert token_request(base_url, CLIENT_CREDENTIALS, headers=headers).status_code == 200
    again = token_request(base_url, CLIENT_CREDENTIALS, headers=headers)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_dpop_proof"


def test_a_confidential_clients_refresh_token_is_not_key_bound(
    alice_browser: SandboxBrowser,
) -> None:
    base_url = alice_browser.base_url
    first = DPoPKey()
    code = alice_browser.authorize(scope=ALL_SCOPES).code
    login = exchange_code(base_url, code, headers=proved(base_url, first)).json()
    # Bound by the client's authentication instead (RFC 9449 §5): any key, or none, may refresh.
    second = DPoPKey()
    renewed = refresh(base_url, login["refresh_token"], headers=proved(base_url, second)).json()
    assert renewed["token_type"] == "DPoP"
    assert claims_of(renewed["access_token"])["cnf"]["jkt"] == second.jkt
    plain = refresh(base_url, renewed["refresh_token"]).json()
    assert plain["token_type"] == "Bearer"
    assert api(base_url, "GET", "/userProfile", plain["access_token"]).status_code == 200


def public_login(base_url: str, key: DPoPKey) -> tuple[str, dict[str, Any]]:
    client_id = register_client(
        base_url, token_endpoint_auth_method="none", redirect_uris=[DEMO_REDIRECT]
    )["client_id"]
    verifier, challenge = pkce_pair()
    code = (
        SandboxBrowser(base_url)
        .authorize(
            client_id=client_id,
            scope="query_userinfo",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        .code
    )
    tokens = exchange_code(
        base_url,
        code,
        client_id=client_id,
        secret=None,
        code_verifier=verifier,
        headers=proved(base_url, key),
    )
    assert tokens.status_code == 200, tokens.text
    return client_id, tokens.json()


def test_a_public_clients_refresh_token_is_bound_to_its_key(base_url: str) -> None:
    key = DPoPKey()
    client_id, tokens = public_login(base_url, key)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    bare = token_request(base_url, data, client_id, secret=None)
    assert bare.status_code == 400
    assert bare.json()["error"] == "invalid_dpop_proof"
    other = token_request(base_url, data, client_id, None, headers=proved(base_url, DPoPKey()))
    assert other.status_code == 400
    assert other.json()["error"] == "invalid_grant"
    # Neither refusal spent the refresh token, nor revoked the login.
    good = token_request(base_url, data, client_id, None, headers=proved(base_url, key))
    assert good.status_code == 200, good.text
    renewed = good.json()
    assert renewed["token_type"] == "DPoP"
    assert (
        dpop_api(base_url, "GET", "/userProfile", renewed["access_token"], key).status_code == 200
    )
    # The rotated refresh token is bound to the same key.
    data["refresh_token"] = renewed["refresh_token"]
    again = token_request(base_url, data, client_id, None, headers=proved(base_url, DPoPKey()))
    assert again.json()["error"] == "invalid_grant"


def test_a_client_registered_for_dpop_must_always_prove(base_url: str) -> None:
    client = register_client(
        base_url,
        redirect_uris=[DEMO_REDIRECT],
        scopes=["query_userinfo", "query_mapdata"],
        dpop_bound_access_tokens=True,
    )
    client_id, secret = client["client_id"], client["client_secret"]
    code = SandboxBrowser(base_url).authorize(client_id=client_id, scope="query_userinfo").code
    refused = exchange_code(base_url, code, client_id=client_id, secret=secret)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_dpop_proof"
    key = DPoPKey()
    tokens = exchange_code(
        base_url, code, client_id=client_id, secret=secret, headers=proved(base_url, key)
    )
    assert tokens.status_code == 200
    assert tokens.json()["token_type"] == "DPoP"
    assert token_request(base_url, CLIENT_CREDENTIALS, client_id, secret).status_code == 400
    data = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}
    assert token_request(base_url, data, client_id, secret).status_code == 400


def test_opaque_tokens_are_bound_too(opaque_sandbox: ServiceProcess) -> None:
    url = opaque_sandbox.url
    key = DPoPKey()
    headers = proof_header(key, url + "/o/token/")
    response = token_request(url, CLIENT_CREDENTIALS, path="/o/token/", headers=headers)
    token = response.json()["access_token"]
    assert response.json()["token_type"] == "DPoP"
    assert "." not in token
    assert dpop_api(url, "GET", BOX, token, key).status_code == 200
    assert api(url, "GET", BOX, token).headers["WWW-Authenticate"].startswith("DPoP ")


def test_switched_off_dpop_is_ignored(plain_sandbox: ServiceProcess) -> None:
    url = plain_sandbox.url
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert "dpop_signing_alg_values_supported" not in metadata
    key = DPoPKey()
    response = token_request(url, CLIENT_CREDENTIALS, headers=proof_header(key, url + TOKEN))
    assert response.json()["token_type"] == "Bearer"
    token = response.json()["access_token"]
    assert "cnf" not in claims_of(token)
    assert api(url, "GET", BOX, token).status_code == 200
    unknown = dpop_api(url, "GET", BOX, token, key)
    assert unknown.status_code == 401
    assert unknown.headers["WWW-Authenticate"] == "Bearer"


def test_aa_public_knows_no_dpop(public_sandbox: ServiceProcess) -> None:
    url = public_sandbox.url
    response = token_request(url, CLIENT_CREDENTIALS, headers=proof_header(DPoPKey(), url + TOKEN))
    assert response.json()["token_type"] == "Bearer"
    assert "cnf" not in claims_of(response.json()["access_token"])

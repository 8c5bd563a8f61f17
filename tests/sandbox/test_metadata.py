"""Discovery metadata and the JWK Set; the tokens verify with an independent JOSE library."""

from __future__ import annotations

import time

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.sandbox.conftest import Login
from tests.sandbox.oauth import client_token


def test_authorization_server_metadata(base_url: str) -> None:
    metadata = requests.get(base_url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert metadata["issuer"] == base_url
    assert metadata["authorization_endpoint"] == base_url + "/oauth/v2/authorize"
    assert metadata["token_endpoint"] == base_url + "/oauth/v2/token"
    assert metadata["revocation_endpoint"] == base_url + "/oauth/v2/revoke"
    assert metadata["jwks_uri"] == base_url + "/.well-known/jwks.json"
    assert metadata["userinfo_endpoint"] == base_url + "/userProfile"
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_post",
        "client_secret_basic",
        "private_key_jwt",
        "none",
    }
    assert {"RS256", "PS256", "ES256", "EdDSA"} <= set(
        metadata["token_endpoint_auth_signing_alg_values_supported"]
    )
    assert "manage_flightreports" in metadata["scopes_supported"]
    assert "manage_users" in metadata["scopes_supported"]


def test_access_token_verifies_against_the_jwks(base_url: str, alice: Login) -> None:
    jwks = requests.get(base_url + "/.well-known/jwks.json", timeout=5).json()
    assert all("d" not in key for key in jwks["keys"])
    token = jwt.decode(alice.access_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    claims = token.claims
    assert claims["iss"] == base_url
    assert claims["sub"] == "aa-user-5f1c2a9e-alice"
    assert claims["client_id"] == "demo-portal"
    assert claims["urn:oauth:scope"] == alice.scope
    assert claims["sid"]
    assert claims["jti"]
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60


def test_client_token_verifies_and_has_no_session(base_url: str) -> None:
    jwks = requests.get(base_url + "/.well-known/jwks.json", timeout=5).json()
    token = jwt.decode(client_token(base_url, "query_mapdata"), KeySet.import_key_set(jwks))
    assert token.claims["sub"] == "demo-portal"
    assert "sid" not in token.claims

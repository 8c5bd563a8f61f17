"""Access tokens: RFC 9068 JWTs in aa and generic modes, the platform's shape in aa-public."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
import redis
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.sandbox.conftest import ALL_SCOPES, Login, fresh_login
from tests.sandbox.flow import SandboxBrowser
from tests.sandbox.oauth import api, client_token, exchange_code
from tests.services import RedisServer, ServiceProcess

RFC_9068_CLAIMS = {"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope"}


def verified(url: str, token: str) -> jwt.Token:
    """Verify ``token`` with the sandbox's published JWK Set, as a resource server would."""
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    jwks = requests.get(metadata["jwks_uri"], timeout=5).json()
    return jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_aa_user_tokens_are_rfc_9068_jwts(base_url: str, alice: Login) -> None:
    token = verified(base_url, alice.access_token)
    assert token.header["typ"] == "at+jwt"
    claims = token.claims
    assert claims.keys() >= RFC_9068_CLAIMS
    assert claims["aud"] == base_url
    assert claims["scope"] == alice.scope
    # The platform's own scope claim, which clients written for Altitude Angel read.
    assert claims["urn:oauth:scope"] == alice.scope


def test_aa_client_tokens_are_rfc_9068_jwts(base_url: str) -> None:
    token = verified(base_url, client_token(base_url, "query_mapdata"))
    assert token.header["typ"] == "at+jwt"
    assert token.claims.keys() >= RFC_9068_CLAIMS
    assert token.claims["sub"] == token.claims["client_id"] == "demo-portal"
    assert token.claims["scope"] == "query_mapdata"


def test_generic_tokens_are_rfc_9068_jwts(generic_sandbox: ServiceProcess) -> None:
    url = generic_sandbox.url
    callback = SandboxBrowser(url).authorize(path="/o/authorize/", scope=ALL_SCOPES)
    body = exchange_code(url, callback.code, path="/o/token/").json()
    token = verified(url, body["access_token"])
    assert token.header["typ"] == "at+jwt"
    assert token.claims.keys() >= RFC_9068_CLAIMS
    assert token.claims["aud"] == url
    assert "urn:oauth:scope" not in token.claims
    assert api(url, "GET", "/o/userinfo/", body["access_token"]).status_code == 200


def test_aa_public_tokens_keep_the_platform_shape(public_sandbox: ServiceProcess) -> None:
    url = public_sandbox.url
    login = fresh_login(SandboxBrowser(url))
    assert header_of(login.access_token)["typ"] == "JWT"
    payload = login.access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["urn:oauth:scope"] == login.scope
    assert "scope" not in claims and "aud" not in claims


@pytest.fixture(scope="module")
def signing_key(redis_server: RedisServer) -> RSAKey:
    """The sandboxes' signing key, read from their Redis to forge tokens they would sign."""
    db = redis.Redis.from_url(redis_server.url, decode_responses=True)
    return RSAKey.import_key(json.loads(str(db.get("sandbox:signing-key"))))


def signed(key: RSAKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid, **header}, claims, key)


def test_the_api_checks_typ_and_aud(base_url: str, signing_key: RSAKey) -> None:
    now = int(time.time())
    claims = {
        "iss": base_url,
        "aud": base_url,
        "sub": "demo-portal",
        "client_id": "demo-portal",
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        "scope": "query_mapdata",
    }
    box = "/v2/mapdata/geojson?n=51.5&e=-0.9&s=51.4&w=-1.0"
    good = signed(signing_key, {"typ": "at+jwt"}, claims)
    assert api(base_url, "GET", box, good).status_code == 200
    for header, changed, why in [
        ({"typ": "JWT"}, {}, "not typed as an access token"),
        ({}, {}, "no typ"),
        ({"typ": "at+jwt"}, {"aud": "https://api.other.example"}, "another audience"),
        ({"typ": "at+jwt"}, {"aud": None}, "no audience"),
    ]:
        forged = {k: v for k, v in {**claims, **changed}.items() if v is not None}
        response = api(base_url, "GET", box, signed(signing_key, header, forged))
        assert response.status_code == 401, why
        assert response.json()["error"] == "invalid_token", why

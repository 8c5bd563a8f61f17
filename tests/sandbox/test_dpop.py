"""RFC 9449 DPoP, offered by default: bound tokens, proofs checked one by one, and refusals."""

from __future__ import annotations

import hashlib
import http.client
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from joserfc.jwk import OctKey

from tests.sandbox.conftest import ALL_SCOPES, Login
from tests.sandbox.dpop_client import DELETE, DPoPKey, b64, dpop_api, proof_header
from tests.sandbox.flow import SandboxBrowser
from tests.sandbox.oauth import (
    exchange_code,
    token_request,
)
from tests.sandbox.test_aa_public import claims_of

TOKEN = "/oauth/v2/token"
BOX = "/v2/mapdata/geojson?n=51.7&e=-0.5&s=51.3&w=-1.3"


def dpop_login(browser: SandboxBrowser, key: DPoPKey, **options: Any) -> dict[str, Any]:
    """Sign in and exchange the code with a proof of ``key``."""
    callback = browser.authorize(scope=ALL_SCOPES)
    headers = proof_header(key, browser.base_url + TOKEN)
    response = exchange_code(browser.base_url, callback.code, headers=headers, **options)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def dpop_client_token(base_url: str, key: DPoPKey, **proof: Any) -> requests.Response:
    data = {"grant_type": "client_credentials", "scope": "query_mapdata"}
    return token_request(base_url, data, headers=proof_header(key, base_url + TOKEN, **proof))


@pytest.fixture(scope="module")
def key() -> DPoPKey:
    return DPoPKey("ES256")


@pytest.fixture
def bound(alice_browser: SandboxBrowser, key: DPoPKey) -> dict[str, Any]:
    """A fresh login of alice whose tokens are bound to ``key``."""
    return dpop_login(alice_browser, key)


def challenge_of(response: requests.Response) -> str:
    assert response.status_code == 401, response.text
    return response.headers["WWW-Authenticate"]


def test_metadata_lists_the_proof_algorithms(base_url: str) -> None:
    metadata = requests.get(base_url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert {"ES256", "RS256", "PS256", "EdDSA"} <= set(
        metadata["dpop_signing_alg_values_supported"]
    )
    assert "HS256" not in metadata["dpop_signing_alg_values_supported"]


def test_a_proof_at_the_token_endpoint_binds_the_access_token(
    base_url: str, key: DPoPKey, bound: dict[str, Any]
) -> None:
    assert bound["token_type"] == "DPoP"
    assert claims_of(bound["access_token"])["cnf"] == {"jkt": key.jkt}
    for path in ("/userProfile", "/flightReport", BOX):
        response = dpop_api(base_url, "GET", path, bound["access_token"], key)
        assert response.status_code == 200, (path, response.text)


def test_without_a_proof_tokens_stay_bearer(base_url: str, alice: Login) -> None:
    assert alice.body["token_type"] == "Bearer"
    assert "cnf" not in claims_of(alice.access_token)
    # A Bearer token is no DPoP token.
    response = dpop_api(base_url, "GET", "/userProfile", alice.access_token, DPoPKey())
    assert challenge_of(response).startswith('DPoP error="invalid_token"')


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "PS256", "EdDSA"])
def test_each_offered_algorithm_works(base_url: str, alg: str) -> None:
    key = DPoPKey(alg)
    response = dpop_client_token(base_url, key)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert claims_of(token)["cnf"]["jkt"] == key.jkt
    assert dpop_api(base_url, "GET", BOX, token, key).status_code == 200


def test_a_bound_token_sent_as_bearer_is_refused(
    base_url: str, key: DPoPKey, bound: dict[str, Any]
) -> None:
    for proof_key in (None, key):
        response = dpop_api(
            base_url, "GET", "/userProfile", bound["access_token"], proof_key, "Bearer"
        )
        found = challenge_of(response)
        assert found.startswith('DPoP error="invalid_token"')
        assert 'algs="' in found and "ES256" in found


def test_a_bound_token_without_a_proof_is_refused(base_url: str, bound: dict[str, Any]) -> None:
    response = dpop_api(base_url, "GET", "/userProfile", bound["access_token"], None)
    assert challenge_of(response).startswith('DPoP error="invalid_dpop_proof"')
    assert response.json()["error"] == "invalid_dpop_proof"


def test_a_proof_signed_by_another_key_is_refused(base_url: str, bound: dict[str, Any]) -> None:
    response = dpop_api(base_url, "GET", "/userProfile", bound["access_token"], DPoPKey())
    assert challenge_of(response).startswith('DPoP error="invalid_dpop_proof"')


def test_a_replayed_proof_is_refused(base_url: str, key: DPoPKey, bound: dict[str, Any]) -> None:
    token = bound["access_token"]
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": key.proof("GET", base_url + "/userProfile", access_token=token),
    }
    first = requests.get(base_url + "/userProfile", headers=headers, timeout=5)
    assert first.status_code == 200
    again = requests.get(base_url + "/userProfile", headers=headers, timeout=5)
    assert challenge_of(again).startswith('DPoP error="invalid_dpop_proof"')


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"ath": DELETE}, "missing ath"),
        ({"ath": "x" * 43}, "wrong ath"),
        ({"htm": "POST"}, "wrong htm"),
        ({"htu": "http://127.0.0.1:1/userProfile"}, "wrong htu"),
        ({"htu": "PATH/flightReport"}, "another path"),
        ({"iat": "NOW-300"}, "stale iat"),
        ({"iat": "NOW+300"}, "future iat"),
        ({"iat": DELETE}, "no iat"),
        ({"jti": DELETE}, "no jti"),
        ({"header": {"typ": "JWT"}}, "wrong typ"),
        ({"header": {"jwk": DELETE}}, "no jwk"),
    ],
)
def test_malformed_proofs_are_refused(
    base_url: str, key: DPoPKey, bound: dict[str, Any], options: dict[str, Any], why: str
) -> None:
    if str(options.get("htu", "")).startswith("PATH"):
        options = {"htu": base_url + options["htu"][4:]}
    if str(options.get("iat", "")).startswith("NOW"):  # relative to now, not to collection time
        options = {"iat": int(time.time()) + int(options["iat"][3:])}
    response = dpop_api(base_url, "GET", "/userProfile", bound["access_token"], key, **options)
    assert challenge_of(response).startswith('DPoP error="invalid_dpop_proof"'), why


def test_a_query_string_is_no_part_of_htu(
    base_url: str, key: DPoPKey, bound: dict[str, Any]
) -> None:
    response = dpop_api(base_url, "GET", BOX, bound["access_token"], key)
    assert response.status_code == 200


def test_forged_proof_keys_are_refused(base_url: str, key: DPoPKey, bound: dict[str, Any]) -> None:
    token = bound["access_token"]
    url = base_url + "/userProfile"
    claims = {"jti": f"j-{time.time()}", "htm": "GET", "htu": url, "iat": int(time.time())}
    claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public}
    secret = OctKey.import_key("a-shared-secret-of-32-bytes-long")
    forged = {
        "signed by another key": key.sign(header, claims, DPoPKey().key),
        "private key in the header": key.sign(
            {**header, "jwk": key.key.as_dict(private=True)}, claims
        ),
        "symmetric alg": key.sign(
            {"typ": "dpop+jwt", "alg": "HS256", "jwk": secret.as_dict()}, claims, secret
        ),
    }
    for why, proof in forged.items():
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
        response = requests.get(url, headers=headers, timeout=5)
        assert challenge_of(response).startswith('DPoP error="invalid_dpop_proof"'), why


def test_two_dpop_headers_are_refused(base_url: str, key: DPoPKey, bound: dict[str, Any]) -> None:
    token = bound["access_token"]
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    connection.putrequest("GET", "/userProfile")
    connection.putheader("Authorization", f"DPoP {token}")
    for _ in range(2):
        connection.putheader("DPoP", key.proof("GET", base_url + "/userProfile", token))
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 401
    assert 'error="invalid_dpop_proof"' in answer.getheader("WWW-Authenticate", "")
    connection.close()

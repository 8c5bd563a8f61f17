"""DPoP required of every client, with server nonces that rotate (RFC 9449 §8, §9)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from tests.sandbox.dpop_client import DPoPKey, dpop_api, proof_header
from tests.sandbox.oauth import token_request
from tests.services import ServiceProcess

TOKEN = "/oauth/v2/token"
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "scope": "query_mapdata"}
BOX = "/v2/mapdata/geojson?n=51.7&e=-0.5&s=51.3&w=-1.3"


@pytest.fixture(scope="module")
def url(hardened_sandbox: ServiceProcess) -> str:
    return hardened_sandbox.url


def with_nonce(send: Callable[[str | None], requests.Response]) -> requests.Response:
    """Send once without a nonce; on use_dpop_nonce send again with the one offered."""
    first = send(None)
    if "use_dpop_nonce" not in first.text:
        return first
    return send(first.headers["DPoP-Nonce"])


def client_token(url: str, key: DPoPKey) -> str:
    def send(nonce: str | None) -> requests.Response:
        headers = proof_header(key, url + TOKEN, nonce=nonce)
        return token_request(url, CLIENT_CREDENTIALS, headers=headers)

    response = with_nonce(send)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def current_nonce(url: str) -> str:
    """Read the nonce the API hands out on any answer."""
    return requests.get(url + "/userProfile", timeout=5).headers["DPoP-Nonce"]


def test_every_token_request_needs_a_proof(url: str) -> None:
    response = token_request(url, CLIENT_CREDENTIALS)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_dpop_proof"
    assert response.headers["DPoP-Nonce"]
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]


def test_the_api_challenges_for_dpop(url: str) -> None:
    response = requests.get(url + BOX, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('DPoP algs="')
    assert "ES256" in response.headers["WWW-Authenticate"]


def test_the_token_endpoint_asks_for_its_nonce(url: str) -> None:
    key = DPoPKey()
    bare = token_request(url, CLIENT_CREDENTIALS, headers=proof_header(key, url + TOKEN))
    assert bare.status_code == 400
    assert bare.json()["error"] == "use_dpop_nonce"
    nonce = bare.headers["DPoP-Nonce"]
    made_up = proof_header(key, url + TOKEN, nonce="not-a-nonce-of-this-server")
    assert token_request(url, CLIENT_CREDENTIALS, headers=made_up).json()["error"] == (
        "use_dpop_nonce"
    )
    good = token_request(
        url, CLIENT_CREDENTIALS, headers=proof_header(key, url + TOKEN, nonce=nonce)
    )
    assert good.status_code == 200, good.text
    assert good.json()["token_type"] == "DPoP"
    assert good.headers["DPoP-Nonce"]


def test_the_api_asks_for_its_nonce(url: str) -> None:
    key = DPoPKey()
    token = client_token(url, key)
    bare = dpop_api(url, "GET", BOX, token, key)
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"].startswith('DPoP error="use_dpop_nonce"')
    nonce = bare.headers["DPoP-Nonce"]
    good = dpop_api(url, "GET", BOX, token, key, nonce=nonce)
    assert good.status_code == 200, good.text


def next_nonce(url: str, after: str, limit: float = 4.0) -> str:
    """Poll until the server hands out a nonce other than ``after``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        nonce = current_nonce(url)
        if nonce != after:
            return nonce
        time.sleep(0.05)
    raise AssertionError("the nonce never rotated")


def test_nonces_rotate_and_a_recent_one_stays_valid_a_while(url: str) -> None:
    key = DPoPKey()
    token = client_token(url, key)
    old = current_nonce(url)
    newer = next_nonce(url, old)
    # Just rotated: the previous nonce is still accepted.
    assert dpop_api(url, "GET", BOX, token, key, nonce=old).status_code == 200
    next_nonce(url, newer)
    stale = dpop_api(url, "GET", BOX, token, key, nonce=old)
    assert stale.status_code == 401
    assert stale.headers["WWW-Authenticate"].startswith('DPoP error="use_dpop_nonce"')

"""oidc-provider's stricter settings: server DPoP nonces, and PAR required per client or for all."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from tests.interop.flow import call, sign_in
from tests.interop.oauth import (
    TIMEOUT,
    DPoPClient,
    DPoPKey,
    FormBrowser,
    callback_params,
    client_auth,
    forms_of,
)
from tests.interop.provider import OpenIDProvider, ProviderClient, start_provider


@pytest.fixture(scope="module")
def strict_provider() -> Iterator[OpenIDProvider]:
    """Nonces required; the private_key_jwt client registered to require PAR."""
    provider = start_provider(
        OP_DPOP_NONCE="1", key_client={"require_pushed_authorization_requests": True}
    )
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def par_for_all() -> Iterator[OpenIDProvider]:
    provider = start_provider(OP_REQUIRE_PAR="1")
    yield provider
    provider.stop()


def front_channel_url(provider: OpenIDProvider, client: ProviderClient) -> str:
    """An authorization request with its parameters in the URL, as before PAR."""
    query = {
        "client_id": client.client_id,
        "response_type": "code",
        "redirect_uri": provider.redirect_uri,
        "scope": "openid query_userinfo",
        "state": "front",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return provider.endpoint("authorization") + "?" + urlencode(query)


def refused_without_par(provider: OpenIDProvider, client: ProviderClient) -> dict[str, str]:
    page = FormBrowser().open(front_channel_url(provider, client), provider.redirect_uri)
    return callback_params(page, provider.redirect_uri)


def test_nonces_are_asked_for_once_then_carried_through_the_whole_flow(
    strict_provider: OpenIDProvider,
) -> None:
    dpop = DPoPClient()
    tokens = sign_in(strict_provider, strict_provider.key_client, dpop).tokens
    assert dpop.nonce_retries == 1  # the first request, to the PAR endpoint
    assert tokens["token_type"] == "DPoP"
    for url in (strict_provider.resource_url, strict_provider.endpoint("userinfo")):
        answer = dpop.request("GET", url, access_token=tokens["access_token"])
        assert answer.status_code == 200, answer.text
    assert dpop.nonce_retries == 1


@pytest.mark.parametrize("where", ["userinfo", "resource"])
def test_a_proof_without_the_nonce_gets_use_dpop_nonce(
    strict_provider: OpenIDProvider, where: str
) -> None:
    dpop = DPoPClient()
    token = sign_in(strict_provider, strict_provider.key_client, dpop).tokens["access_token"]
    url = (
        strict_provider.endpoint("userinfo")
        if where == "userinfo"
        else strict_provider.resource_url
    )
    for nonce in (None, "made-up"):
        response = call(url, token, "DPoP", dpop.key.proof("GET", url, token, nonce))
        assert response.status_code == 401, response.text
        assert 'error="use_dpop_nonce"' in response.headers["WWW-Authenticate"]
        assert response.headers["DPoP-Nonce"]


def test_the_token_endpoint_asks_for_a_nonce_in_its_json_error(
    strict_provider: OpenIDProvider,
) -> None:
    client, url = strict_provider.key_client, strict_provider.endpoint("token")
    key = DPoPKey()
    fields = {"grant_type": "refresh_token", "refresh_token": "unknown"}
    for nonce in (None, "made-up"):
        data = {**fields, **client_auth(client, strict_provider.issuer)}
        headers = {"DPoP": key.proof("POST", url, nonce=nonce)}
        response = requests.post(url, data=data, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 400
        assert response.json()["error"] == "use_dpop_nonce"
        nonce = response.headers["DPoP-Nonce"]
    data = {**fields, **client_auth(client, strict_provider.issuer)}
    headers = {"DPoP": key.proof("POST", url, nonce=nonce)}
    with_nonce = requests.post(url, data=data, headers=headers, timeout=TIMEOUT)
    assert with_nonce.json()["error"] == "invalid_grant"  # past the nonce, to the unknown token


def test_a_client_registered_to_require_par_cannot_skip_it(strict_provider: OpenIDProvider) -> None:
    refused = refused_without_par(strict_provider, strict_provider.key_client)
    assert refused["error"] == "invalid_request"
    assert refused["error_description"] == "Pushed Authorization Request must be used"
    other = strict_provider.secret_client  # not registered to require it
    page = FormBrowser().open(
        front_channel_url(strict_provider, other), strict_provider.redirect_uri
    )
    assert "login" in forms_of(page.text)


def test_op_require_par_requires_it_of_every_client(par_for_all: OpenIDProvider) -> None:
    assert par_for_all.metadata["require_pushed_authorization_requests"] is True
    refused = refused_without_par(par_for_all, par_for_all.secret_client)
    assert refused["error_description"] == "Pushed Authorization Request must be used"
    assert sign_in(par_for_all, par_for_all.secret_client).tokens["token_type"] == "Bearer"

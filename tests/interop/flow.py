"""The authorization-code flow against oidc-provider: PAR, sign-in, code exchange, refresh."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from tests.interop.oauth import (
    TIMEOUT,
    DPoPClient,
    FormBrowser,
    client_auth,
    pkce_pair,
)
from tests.interop.provider import OpenIDProvider, ProviderClient

SCOPE = "openid offline_access query_userinfo manage_flightreports query_mapdata"


def endpoint_request(
    provider: OpenIDProvider,
    client: ProviderClient,
    endpoint: str,
    fields: dict[str, str],
    dpop: DPoPClient | None = None,
) -> requests.Response:
    """POST ``fields`` to an endpoint as ``client``, with a DPoP proof when ``dpop`` is given."""
    url = provider.endpoint(endpoint)

    def form() -> dict[str, str]:
        return {**fields, **client_auth(client, provider.issuer)}

    if dpop is not None:
        return dpop.request("POST", url, form=form)
    return requests.post(url, data=form(), timeout=TIMEOUT, allow_redirects=False)


@dataclass
class SignIn:
    """A finished sign-in: the token response and the browser that holds the provider's session."""

    tokens: dict[str, Any]
    browser: FormBrowser
    authorize_url: str


def pushed_authorize_url(
    provider: OpenIDProvider,
    client: ProviderClient,
    params: dict[str, str],
    dpop: DPoPClient | None = None,
) -> str:
    """Push the authorization request (RFC 9126); return the URL carrying only its reference."""
    response = endpoint_request(provider, client, "pushed_authorization_request", params, dpop)
    assert response.status_code == 201, response.text
    query = {"client_id": client.client_id, "request_uri": response.json()["request_uri"]}
    return provider.endpoint("authorization") + "?" + urlencode(query)


def sign_in(
    provider: OpenIDProvider,
    client: ProviderClient,
    dpop: DPoPClient | None = None,
    *,
    scope: str = SCOPE,
    username: str = "alice",
    browser: FormBrowser | None = None,
) -> SignIn:
    """Run PAR, sign-in and consent, and the code exchange; check state, iss and the tokens."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "redirect_uri": provider.redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",  # OpenID Connect grants offline_access only with it
    }
    url = pushed_authorize_url(provider, client, params, dpop)
    browser = browser or FormBrowser()
    callback = browser.authorize(url, provider.redirect_uri, username)
    assert callback.get("state") == state, callback
    assert callback.get("iss") == provider.issuer, callback
    exchange = {
        "grant_type": "authorization_code",
        "code": callback["code"],
        "redirect_uri": provider.redirect_uri,
        "code_verifier": verifier,
    }
    response = endpoint_request(provider, client, "token", exchange, dpop)
    assert response.status_code == 200, response.text
    return SignIn(response.json(), browser, url)


def refresh(
    provider: OpenIDProvider,
    client: ProviderClient,
    refresh_token: str,
    dpop: DPoPClient | None = None,
) -> requests.Response:
    fields = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return endpoint_request(provider, client, "token", fields, dpop)


def call(url: str, token: str, scheme: str, proof: str | None = None) -> requests.Response:
    """GET ``url`` with ``Authorization: scheme token`` and, if given, a DPoP proof."""
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.get(url, headers=headers, timeout=TIMEOUT)

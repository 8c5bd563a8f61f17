"""The portal with AA_PROFILE=fapi2 against oidc-provider configured for FAPI 2.0 (OP_FAPI=1).

The provider runs its FAPI 2.0 profile with PAR required, server DPoP nonces, private_key_jwt
clients alone and PS256, ES256 or EdDSA for every JWT; the portal signs in asking for openid,
calls the provider's DPoP-checking resource, refreshes and signs out, with every assertion for
the issuer. The same provider without its FAPI settings is refused once its metadata is read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from flask import Flask

from app import create_app
from flask_altitudeangel import AuthServerUnavailable
from tests import peek
from tests.interop.oauth import FormBrowser
from tests.interop.provider import OpenIDProvider, start_provider
from tests.oauth_driver import csrf_token
from tests.portal.test_flow import jwt_parts
from tests.services import RedisServer

ACCESS_TOKEN_TTL = 4  # seconds: a refresh happens during the test


@pytest.fixture(scope="module")
def fapi_provider() -> Iterator[OpenIDProvider]:
    started = start_provider(
        OP_FAPI="1", OP_DPOP_NONCE="1", OP_ACCESS_TOKEN_TTL=str(ACCESS_TOKEN_TTL)
    )
    yield started
    started.stop()


@pytest.fixture
def assertions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Collect the claims of each client assertion sent; a spy, every request still goes on."""
    sent: list[dict[str, Any]] = []
    real = requests.Session.send

    def send(session: requests.Session, request: requests.PreparedRequest, **kw: Any) -> Any:
        body = request.body
        form = dict(parse_qsl(body.decode() if isinstance(body, bytes) else str(body or "")))
        if "client_assertion" in form:
            sent.append(jwt_parts(form["client_assertion"])[1])
        assert "client_secret" not in form
        return real(session, request, **kw)

    monkeypatch.setattr(requests.Session, "send", send)
    yield sent


def fapi_portal(provider: OpenIDProvider, redis: RedisServer) -> Flask:
    key_client = provider.key_client
    assert key_client.private_key_pem is not None
    app = create_app(
        {
            "AA_PROFILE": "fapi2",
            "AA_AUTH_URL": provider.issuer,
            "AA_API_URL": provider.issuer,
            "AA_CLIENT_ID": key_client.client_id,
            "AA_CLIENT_KEY_FILE": str(key_client.private_key_pem),
            "AA_REDIRECT_URI": provider.redirect_uri,
            "AA_SCOPES": "openid offline_access query_userinfo",
            # The provider's stand-in of the platform's profile endpoint, which checks DPoP.
            "AA_USERPROFILE_URL": provider.resource_url,
            "REDIS_URL": redis.url,
            "SECRET_KEY": "interop-secret-key-" + "f" * 32,
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
    )
    app.config["TESTING"] = True
    return app


def test_the_portal_signs_in_under_the_profile_at_a_fapi2_provider(
    fapi_provider: OpenIDProvider, redis_server: RedisServer, assertions: list[dict[str, Any]]
) -> None:
    metadata = fapi_provider.metadata
    assert metadata["require_pushed_authorization_requests"] is True
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    app = fapi_portal(fapi_provider, redis_server)
    config = peek.config(app)
    assert config.par_url == fapi_provider.endpoint("pushed_authorization_request")
    assert config.dpop and config.require_iss and config.client_auth == "private_key_jwt"

    client = app.test_client()
    started = client.get("/login")
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    location = started.headers["Location"]
    assert set(parse_qs(urlsplit(location).query)) == {"client_id", "request_uri"}
    callback = FormBrowser().authorize(location, fapi_provider.redirect_uri)
    assert callback["iss"] == fapi_provider.issuer
    finished = client.get("/callback", query_string=callback)
    assert finished.status_code == 303, finished.get_data(as_text=True)[:800]
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "DPoP" and token.dpop_jwk
    assert token.id_claims and token.id_claims["sub"] == "alice"  # an ES256 ID token, checked

    assert client.get("/profile").status_code == 200  # DPoP to the resource, with its nonce
    time.sleep(ACCESS_TOKEN_TTL / 2 + 0.6)  # within the refresh margin
    assert client.get("/profile").status_code == 200
    refreshed = peek.stored_token(client)
    assert refreshed is not None and refreshed.version == token.version + 1
    assert refreshed.token_type == "DPoP"

    page = client.get("/profile").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 303
    # The pushed request, the code exchange, the refresh and the revocation, at the least.
    assert len(assertions) >= 4
    for claims in assertions:
        assert claims["aud"] == fapi_provider.issuer  # a string, the issuer identifier
        assert 0 < claims["exp"] - claims["iat"] <= 60
    assert len({claims["jti"] for claims in assertions}) == len(assertions)


def test_the_provider_without_its_fapi2_settings_is_refused(
    oidc_provider: OpenIDProvider, redis_server: RedisServer
) -> None:
    app = fapi_portal(oidc_provider, redis_server)  # the metadata is read when first needed
    with pytest.raises(AuthServerUnavailable) as refused:
        peek.config(app)
    message = str(refused.value.description)
    assert message.startswith("AA_PROFILE is fapi2, but the server at")
    assert message.endswith("does not offer require_pushed_authorization_requests: true")

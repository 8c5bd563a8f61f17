"""The portal, configured with the provider's URL alone, against a certified OpenID provider.

oidc-provider publishes OpenID Connect discovery only, so the app finds its endpoints through
the fallback; it offers DPoP, PAR and private_key_jwt, so the app uses all three, and sends a
DPoP-bound token with a fresh proof to the provider's protected resource.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests import peek
from tests.interop.oauth import FormBrowser
from tests.interop.provider import OpenIDProvider, start_provider
from tests.oauth_driver import csrf_token
from tests.services import RedisServer

ACCESS_TOKEN_TTL = 4  # seconds: refreshes happen during the test


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    started = start_provider(OP_ACCESS_TOKEN_TTL=str(ACCESS_TOKEN_TTL), OP_DPOP_NONCE="1")
    yield started
    started.stop()


def portal(provider: OpenIDProvider, redis: RedisServer) -> Flask:
    key_client = provider.key_client
    assert key_client.private_key_pem is not None
    app = create_app(
        {
            "AA_AUTH_URL": provider.issuer,
            "AA_API_URL": provider.issuer,
            "AA_CLIENT_ID": key_client.client_id,
            "AA_CLIENT_KEY_FILE": str(key_client.private_key_pem),
            "AA_REDIRECT_URI": provider.redirect_uri,
            "AA_SCOPES": "openid offline_access query_userinfo",
            # The provider's stand-in of the platform's profile endpoint, which checks DPoP.
            "AA_USERPROFILE_URL": provider.resource_url,
            "REDIS_URL": redis.url,
            "SECRET_KEY": "interop-secret-key-" + "i" * 32,
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "FLOW_TRACE": "1",
        }
    )
    app.config["TESTING"] = True
    return app


def sign_in(client: FlaskClient, provider: OpenIDProvider) -> None:
    started = client.get("/login")
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    location = started.headers["Location"]
    assert set(parse_qs(urlsplit(location).query)) == {"client_id", "request_uri"}
    callback = FormBrowser().authorize(location, provider.redirect_uri)
    query = "&".join(f"{k}={v}" for k, v in callback.items())
    finished = client.get("/callback", query_string=callback)
    assert finished.status_code == 303, (query, finished.get_data(as_text=True)[:800])


def test_the_portal_finds_and_uses_dpop_par_and_private_key_jwt(
    provider: OpenIDProvider, redis_server: RedisServer
) -> None:
    app = portal(provider, redis_server)
    config = peek.config(app)
    assert config.token_url == provider.endpoint("token")  # from OpenID Connect discovery
    assert config.dpop and config.par_url and config.client_auth == "private_key_jwt"

    client = app.test_client()
    sign_in(client, provider)
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "DPoP" and token.dpop_jwk

    profile = client.get("/profile")
    assert profile.status_code == 200, profile.get_data(as_text=True)[:500]
    assert "Alice" in profile.get_data(as_text=True)

    time.sleep(ACCESS_TOKEN_TTL / 2 + 0.6)  # within the refresh margin
    assert client.get("/profile").status_code == 200
    refreshed = peek.stored_token(client)
    assert refreshed is not None and refreshed.version == token.version + 1
    assert refreshed.refresh_token != token.refresh_token  # the provider rotates them

    flow = client.get("/flow").get_data(as_text=True)
    for shown in ("Pushed authorization request", "client assertion claims", "DPoP proof claims"):
        assert shown in flow, shown

    page = client.get("/profile").get_data(as_text=True)
    signed_out = client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert signed_out.status_code == 303
    assert signed_out.headers["Location"].startswith(provider.endpoint("end_session"))
    assert client.get("/profile").status_code == 401

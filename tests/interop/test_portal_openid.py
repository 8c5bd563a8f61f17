"""The portal asking for openid at a certified OpenID provider: its ID tokens, and its logout.

The sign-in checks the provider's ID token and hands it back at sign-out; a token response
altered on its way (through a token endpoint in the middle, tests/interop/tamper.py) is refused;
and when the user signs out at the provider, its back-channel logout ends that browser's login
in the portal, served over HTTP, while another browser's login of the same user stays.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from tests import peek
from tests.interop.oauth import TIMEOUT, FormBrowser, forms_of
from tests.interop.provider import OpenIDProvider, start_provider
from tests.interop.tamper import TamperingTokenEndpoint
from tests.oauth_driver import csrf_token
from tests.services import RedisServer, free_port


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    """oidc-provider, both clients registered for back-channel logout at the portal's port."""
    origin = f"http://127.0.0.1:{free_port()}"
    logout = {
        "backchannel_logout_uri": origin + "/backchannel-logout",
        "backchannel_logout_session_required": True,
    }
    started = start_provider(origin + "/callback", key_client=logout, secret_client=logout)
    yield started
    started.stop()


def portal(provider: OpenIDProvider, redis: RedisServer, **extra: str) -> Flask:
    """The portal as the client_secret_post client, asking for openid."""
    client = provider.secret_client
    assert client.client_secret is not None
    settings = {
        "AA_AUTH_URL": provider.issuer,
        "AA_API_URL": provider.issuer,
        "AA_CLIENT_ID": client.client_id,
        "AA_CLIENT_SECRET": client.client_secret,
        "AA_REDIRECT_URI": provider.redirect_uri,
        "AA_SCOPES": "openid query_userinfo",
        "AA_USERPROFILE_URL": provider.resource_url,
        "REDIS_URL": redis.url,
        "SECRET_KEY": "interop-secret-key-" + "o" * 32,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        **extra,
    }
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def sign_in(client: FlaskClient, provider: OpenIDProvider, browser: FormBrowser) -> Any:
    """Sign alice in through the provider's pages; return the portal's answer to the callback."""
    started = client.get("/login")
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    callback = browser.authorize(started.headers["Location"], provider.redirect_uri)
    return client.get("/callback", query_string=callback)


def test_the_id_token_is_checked_recorded_and_handed_back_at_sign_out(
    provider: OpenIDProvider, redis_server: RedisServer
) -> None:
    key_client = provider.key_client
    assert key_client.private_key_pem is not None
    app = portal(
        provider,
        redis_server,
        AA_CLIENT_ID=key_client.client_id,
        AA_CLIENT_KEY_FILE=str(key_client.private_key_pem),
    )
    client, browser = app.test_client(), FormBrowser()
    assert sign_in(client, provider, browser).status_code == 303
    token = peek.stored_token(client)
    assert token is not None and token.id_token and token.id_claims is not None
    claims = token.id_claims
    assert (claims["iss"], claims["aud"], claims["sub"]) == (
        provider.issuer,
        key_client.client_id,
        "alice",
    )
    assert len(claims["nonce"]) >= 32 and claims["at_hash"] and claims["sid"]
    entry = peek.session_entry(client)
    assert (entry["sub"], entry["sid"]) == ("alice", claims["sid"])

    page = client.get("/profile").get_data(as_text=True)
    signed_out = client.post("/logout", data={"csrf_token": csrf_token(page)})
    location = signed_out.headers["Location"]
    assert location.startswith(provider.endpoint("end_session") + "?")
    assert parse_qs(urlsplit(location).query)["id_token_hint"] == [token.id_token]
    # The provider takes the hint as its own ID token for this client: it asks to confirm.
    confirm = browser.open(location, provider.post_logout_redirect_uri)
    assert "op.logoutForm" in forms_of(confirm.text), confirm.text[:500]


@pytest.mark.parametrize(
    ("mode", "logged"),
    [
        ("break_signature", "reason=invalid_id_token check=signature"),
        ("replay", "reason=invalid_id_token check=nonce"),
        ("drop", "reason=missing_id_token"),
    ],
)
def test_a_token_response_altered_in_transit_is_refused(
    provider: OpenIDProvider,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    logged: str,
) -> None:
    # DPoP off: a proof names the token endpoint the client sends it to, here the middle one.
    middle = TamperingTokenEndpoint(provider.endpoint("token"))
    with middle.running():
        app = portal(provider, redis_server, AA_TOKEN_URL=middle.url, AA_DPOP="0")
        earlier = app.test_client()
        assert sign_in(earlier, provider, FormBrowser()).status_code == 303  # as it came
        middle.mode = mode
        client = app.test_client()
        with caplog.at_level(logging.INFO, "flask_altitudeangel.events"):
            refused = sign_in(client, provider, FormBrowser())
    assert refused.status_code == 400
    assert "Sign-in refused" in refused.get_data(as_text=True)
    assert any(logged in record.getMessage() for record in caplog.records)
    assert peek.login_id(client) is None
    assert client.get("/profile").status_code == 401
    assert earlier.get("/profile").status_code == 200  # the earlier login is not touched


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Keep the callback's query (it carries the code) out of the test output."""


@pytest.fixture
def served(provider: OpenIDProvider, redis_server: RedisServer) -> Iterator[str]:
    """The portal over HTTP at the registered port, for the provider to post its logout to."""
    parts = urlsplit(provider.redirect_uri)
    assert parts.port is not None
    server = make_server(
        "127.0.0.1",
        parts.port,
        portal(provider, redis_server),
        threaded=True,
        request_handler=_Quiet,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{parts.scheme}://{parts.netloc}"
    server.shutdown()
    thread.join()


def signed_in_over_http(url: str, provider: OpenIDProvider) -> tuple[requests.Session, FormBrowser]:
    """Sign alice in at the served portal in a browser of her own; return it."""
    portal_session, at_provider = requests.Session(), FormBrowser()
    started = portal_session.get(url + "/login", allow_redirects=False, timeout=TIMEOUT)
    callback = at_provider.authorize(started.headers["Location"], provider.redirect_uri)
    finished = portal_session.get(
        url + "/callback", params=callback, allow_redirects=False, timeout=TIMEOUT
    )
    assert finished.status_code == 303, finished.text[:500]
    return portal_session, at_provider


def session_status(session: requests.Session, url: str) -> int:
    """GET /session: what the portal holds for the login, read from its store, no API called.

    Signing out at the provider also revokes the grant there, so any page that calls an API
    would find the login dead with or without the back-channel logout.
    """
    return session.get(url + "/session", allow_redirects=False, timeout=TIMEOUT).status_code


def test_signing_out_at_the_provider_ends_that_browsers_login_by_back_channel(
    provider: OpenIDProvider, served: str
) -> None:
    first, first_at_provider = signed_in_over_http(served, provider)
    second, _ = signed_in_over_http(served, provider)  # the same user, another browser
    assert session_status(first, served) == 200 and session_status(second, served) == 200

    query = {
        "client_id": provider.secret_client.client_id,
        "post_logout_redirect_uri": provider.post_logout_redirect_uri,
    }
    stop_at = provider.post_logout_redirect_uri
    confirm = first_at_provider.open(
        provider.endpoint("end_session") + "?" + urlencode(query), stop_at
    )
    back = first_at_provider.submit(confirm, "op.logoutForm", stop_at, logout="yes")
    assert back.headers["Location"].startswith(provider.post_logout_redirect_uri)

    assert "backchannel.success portal-client-secret" in provider.service.log_text()
    assert session_status(first, served) == 401  # signed out at its next request
    assert session_status(second, served) == 200  # another provider session: it stays

"""Fixtures for the sandbox tests: signed-in browsers, fresh logins and odd-config sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.sandbox.flow import SandboxBrowser
from tests.sandbox.oauth import exchange_code
from tests.services import RedisServer, ServiceProcess, sandbox_process

ALL_SCOPES = "query_userinfo manage_flightreports query_mapdata query_mapairdata"
PLAIN_ISSUER = "http://sandbox.test:5001"
EXTRA_REDIRECT = "http://portal:5000/callback"
EXTRA_SIGNED_OUT = "http://portal:5000/signed-out"


@dataclass
class Login:
    """The token response of one fresh sign-in (one token family)."""

    access_token: str
    refresh_token: str
    scope: str
    body: dict[str, object]


def fresh_login(browser: SandboxBrowser, scope: str = ALL_SCOPES, **params: str) -> Login:
    """Sign in (consent is remembered after the first time) and exchange the code."""
    callback = browser.authorize(scope=scope, **params)
    response = exchange_code(browser.base_url, callback.code)
    assert response.status_code == 200, response.text
    body = response.json()
    return Login(body["access_token"], body["refresh_token"], body["scope"], body)


@pytest.fixture(scope="session")
def base_url(sandbox: ServiceProcess) -> str:
    return sandbox.url


@pytest.fixture(scope="session")
def alice_browser(base_url: str) -> SandboxBrowser:
    """A browser signed in as alice that has consented to the demo portal's usual scopes."""
    browser = SandboxBrowser(base_url)
    browser.authorize(username="alice", scope=ALL_SCOPES)
    return browser


@pytest.fixture(scope="session")
def bob_browser(base_url: str) -> SandboxBrowser:
    browser = SandboxBrowser(base_url)
    browser.authorize(username="bob", scope=ALL_SCOPES)
    return browser


@pytest.fixture
def alice(alice_browser: SandboxBrowser) -> Login:
    """A fresh login of alice: its own token family."""
    return fresh_login(alice_browser)


@pytest.fixture
def bob(bob_browser: SandboxBrowser) -> Login:
    return fresh_login(bob_browser)


def _started(service: ServiceProcess) -> Iterator[ServiceProcess]:
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def short_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """A sandbox whose access tokens live two seconds and pushed requests one, faults off."""
    service = sandbox_process(
        redis_server.url, SANDBOX_ACCESS_TOKEN_TTL="2", SANDBOX_FAULTS="0", SANDBOX_PAR_TTL="1"
    )
    yield from _started(service)


@pytest.fixture(scope="session")
def generic_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """A sandbox playing a standard OAuth server that is not Altitude Angel."""
    yield from _started(sandbox_process(redis_server.url, SANDBOX_MODE="generic"))


@pytest.fixture(scope="session")
def opaque_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """A generic sandbox whose access tokens are opaque strings kept in Redis."""
    service = sandbox_process(
        redis_server.url, SANDBOX_MODE="generic", SANDBOX_ACCESS_TOKEN_FORMAT="opaque"
    )
    yield from _started(service)


@pytest.fixture(scope="session")
def public_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """A sandbox playing only what Altitude Angel's public documents describe."""
    yield from _started(sandbox_process(redis_server.url, SANDBOX_MODE="aa-public"))


@pytest.fixture(scope="session")
def hardened_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """A sandbox that requires pushed requests and DPoP with nonces (rotating each second)."""
    service = sandbox_process(
        redis_server.url,
        SANDBOX_REQUIRE_PAR="1",
        SANDBOX_DPOP="required",
        SANDBOX_DPOP_NONCE="1",
        SANDBOX_DPOP_NONCE_LIFETIME="1",
    )
    yield from _started(service)


@pytest.fixture(scope="session")
def plain_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """A sandbox without ``iss``, admin, faults or DPoP; its own issuer and redirect URI."""
    service = sandbox_process(
        redis_server.url,
        SANDBOX_SEND_ISS="0",
        SANDBOX_ADMIN_SECRET="",
        SANDBOX_FAULTS="0",
        SANDBOX_ISSUER=PLAIN_ISSUER,
        SANDBOX_EXTRA_REDIRECT_URIS=f"{EXTRA_REDIRECT} http://localhost:9/other",
        SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS=EXTRA_SIGNED_OUT,
        SANDBOX_DPOP="0",
    )
    yield from _started(service)


@pytest.fixture
def admin_headers() -> dict[str, str]:
    from tests.services import ADMIN_SECRET

    return {"X-Sandbox-Admin": ADMIN_SECRET}


@pytest.fixture
def no_faults(base_url: str, admin_headers: dict[str, str]) -> Iterator[None]:
    """Clear the fault queues before and after a test that injects faults."""
    requests.delete(base_url + "/_sandbox/faults", headers=admin_headers, timeout=5)
    yield
    requests.delete(base_url + "/_sandbox/faults", headers=admin_headers, timeout=5)

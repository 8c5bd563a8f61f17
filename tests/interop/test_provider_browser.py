"""oidc-provider's sign-in, consent and sign-out pages work in Chromium over plain http."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright

from tests.browser.chromium import launch
from tests.interop.flow import endpoint_request, pushed_authorize_url
from tests.interop.oauth import DPoPClient, pkce_pair
from tests.interop.provider import OpenIDProvider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = launch(playwright)
    yield launched
    launched.close()


class _Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"<!DOCTYPE html><title>client</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - its signature
        """Keep the callback's query (it carries the code) out of the test output."""


@pytest.fixture
def page(browser: Browser, oidc_provider: OpenIDProvider) -> Iterator[Page]:
    """A page, with a blank page answering at the client's redirect URIs (no client runs here).

    A route in Playwright would not do: it never sees the redirects the provider answers with.
    """
    port = urlsplit(oidc_provider.redirect_uri).port
    assert port is not None
    server = ThreadingHTTPServer(("127.0.0.1", port), _Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context()
    yield context.new_page()
    context.close()
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_person_signs_in_consents_and_signs_out_in_chromium(
    page: Page, oidc_provider: OpenIDProvider
) -> None:
    client, dpop = oidc_provider.key_client, DPoPClient()
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "redirect_uri": oidc_provider.redirect_uri,
        "scope": "openid query_userinfo manage_flightreports",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(pushed_authorize_url(oidc_provider, client, params, dpop))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wonderland")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("#scopes").inner_text().split() == [
        "query_userinfo",
        "manage_flightreports",
    ]
    with page.expect_navigation(url=oidc_provider.redirect_uri + "?**"):
        page.get_by_role("button", name="Allow").click()
    callback = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert callback["state"] == state
    exchange = {
        "grant_type": "authorization_code",
        "code": callback["code"],
        "redirect_uri": oidc_provider.redirect_uri,
        "code_verifier": verifier,
    }
    tokens = endpoint_request(oidc_provider, client, "token", exchange, dpop).json()
    assert tokens["token_type"] == "DPoP"

    logout = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": oidc_provider.post_logout_redirect_uri,
        "state": "bye",
    }
    page.goto(oidc_provider.endpoint("end_session") + "?" + urlencode(logout))
    with page.expect_navigation(url=oidc_provider.post_logout_redirect_uri + "?state=bye"):
        page.get_by_role("button", name="Yes, sign me out").click()
    page.goto(pushed_authorize_url(oidc_provider, client, params, dpop))
    assert page.get_by_label("Password").is_visible()  # signed out: the password, asked again

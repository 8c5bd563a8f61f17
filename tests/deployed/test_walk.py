"""Chromium walks the deployed stack (nginx with TLS, two instances) from sign-in to sign-out.

The browser applies what a test client ignores: the pages' referrer policy (so the CSRF checks
see what a user's browser sends), the ``__Host-`` cookie prefix (a cookie without ``Secure`` is
refused, and one expired without ``Secure`` is kept) and the CSP.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from flask_altitudeangel import Cipher
from tests.browser.chromium import assert_accessible, launch, screenshot, sign_in
from tests.deployed.topology import DEMO_SECRET, SHARED_SECRET_KEY, DeployedPortal

pytestmark = [pytest.mark.browser, pytest.mark.cluster]
COOKIE = "__Host-portal_session"


@pytest.fixture(scope="module")
def tls_browser(playwright: Playwright, deployed: DeployedPortal) -> Iterator[Browser]:
    """Chromium that trusts the test certificate, by its public key, and nothing else new."""
    pin = f"--ignore-certificate-errors-spki-list={deployed.nginx.spki_pin()}"
    browser = launch(playwright, pin)
    yield browser
    browser.close()


def session_cookies(page: Page) -> list[str]:
    return [c["name"] for c in page.context.cookies() if c["name"].endswith("portal_session")]


def stored_tokens(deployed: DeployedPortal) -> list[str]:
    """Decrypt every login's stored tokens, to look for them where they must not be."""
    cipher = Cipher((), SHARED_SECRET_KEY)
    redis = deployed.redis.client()
    found = []
    for key in redis.scan_iter("portal:login:*:tokens"):
        token = json.loads(zlib.decompress(cipher.decrypt(redis.hget(key, "blob"))))
        found += [token["access_token"], token["refresh_token"]]
    return found


def file_a_report(page: Page, name: str, end: str) -> None:
    page.get_by_role("link", name="New report").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Type of flight").select_option("rec")
    page.get_by_label("Start (local time)").fill("2031-05-04T10:00")
    page.get_by_label("End (local time)").fill(end)
    page.get_by_label("Latitude").fill("51.4545")
    page.get_by_label("Longitude").fill("-0.9781")
    page.get_by_role("button", name="File report").click()


def test_a_user_walks_the_deployed_portal_from_sign_in_to_sign_out(
    deployed: DeployedPortal, tls_browser: Browser
) -> None:
    url = deployed.url
    context = tls_browser.new_context()
    page = context.new_page()
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/callback?" in r.url else None)
    problems: list[str] = []  # CSP violations, and sub-resources (icons, styles) that failed
    page.on("console", lambda m: problems.append(m.text) if "Security Policy" in m.text else None)
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )

    page.goto(url + "/")
    assert session_cookies(page) == []  # an anonymous visit leaves no session
    page.get_by_role("button", name="Sign in with Altitude Angel").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wonderland")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(url + "/flight-reports")
    expect(page.get_by_role("heading", name="Your flight reports")).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/"

    page.locator("tbody a").first.click()
    expect(page.locator("svg.sketch")).to_be_visible()

    file_a_report(page, "Deployed walk over Reading", end="2031-05-04T09:00")
    expect(page.get_by_text("The end must be after the start.")).to_be_visible()
    assert page.url == url + "/flight-reports/new"
    page.get_by_label("End (local time)").fill("2031-05-04T11:00")
    page.get_by_role("button", name="File report").click()
    expect(page.get_by_role("heading", name="Deployed walk over Reading")).to_be_visible()

    page.get_by_role("button", name="Complete this report").click()
    expect(page.locator(".status-completed")).to_be_visible()

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_text("alice@example.com")).to_be_visible()
    page.get_by_role("link", name="Session").click()
    expect(page.get_by_text("Granted scopes")).to_be_visible()
    page.get_by_role("link", name="Flow").click()
    expect(page.locator(".arrow-title").first).to_have_text("Sign in")
    tokens = stored_tokens(deployed)
    assert tokens

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # the sandbox asks
    screenshot(page, "deployed-sandbox-sign-out")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(url + "/signed-out?*")
    expect(page.locator("#platform-session")).to_contain_text("has ended too")
    screenshot(page, "deployed-signed-out")
    assert_accessible(page)
    assert session_cookies(page) == []  # the browser really dropped the __Host- cookie

    page.goto(url + "/flight-reports")
    expect(page.get_by_role("heading", name="Please sign in")).to_be_visible()
    expect(page.get_by_text("Deployed walk over Reading")).to_have_count(0)
    page.get_by_role("link", name="Sign in").last.click()
    expect(page.get_by_label("Password")).to_be_visible()  # the platform forgot the user too
    context.close()

    assert problems == []
    assert_no_secret_in_any_log(deployed, callbacks, tokens)


def assert_no_secret_in_any_log(
    deployed: DeployedPortal, callbacks: list[str], tokens: list[str]
) -> None:
    assert callbacks, "the walk went through the callback"
    query = parse_qs(urlsplit(callbacks[0]).query)
    secrets = [query["code"][0], query["state"][0], *tokens, DEMO_SECRET, quote(DEMO_SECRET)]
    logs = deployed.logs()
    assert "GET /callback HTTP/1.1" in logs["access.log"]  # nginx did log the callback
    for name in ("access.log", "error.log", "app-1", "app-2"):
        for secret in secrets:
            assert secret not in logs[name], (name, secret[:6])
        for marker in ("code=", "state=", "eyJ", "Bearer "):
            assert marker not in logs[name], (name, marker)


def test_a_post_from_another_site_is_refused_in_the_browser(
    deployed: DeployedPortal, tls_browser: Browser
) -> None:
    """A cross-site form aimed at sign-out is refused; the user stays signed in."""
    context = tls_browser.new_context()
    page = context.new_page()
    sign_in(page, deployed.url, "bob", "builder")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")

    # The attacker's page lives on the sandbox's origin, another site as far as the app goes.
    responses: list[int] = []
    page.on("response", lambda r: responses.append(r.status) if r.url.endswith("/logout") else None)
    page.goto(deployed.sandbox.url + "/sandbox/")
    page.set_content(
        f'<form method="post" action="{deployed.url}/logout">'
        f'<input name="csrf_token" value="{token}"><button>Win a prize</button></form>'
    )
    page.get_by_role("button", name="Win a prize").click()
    page.wait_for_load_state()
    assert responses == [400]
    page.goto(deployed.url + "/profile")
    expect(page.get_by_role("heading", name="Please sign in")).to_have_count(0)
    context.close()

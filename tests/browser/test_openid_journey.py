"""The portal asking for openid: sign in, see the profile, sign out at the sandbox, and the
portal hears of it by back-channel logout before the browser comes back; signed in again, its
flow page says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.chromium import screenshot
from tests.services import RedisServer, admin_call, app_process, sandbox_process

OPENID_SCOPES = "openid query_userinfo manage_flightreports query_mapdata"


@pytest.fixture(scope="module")
def openid_portal() -> Iterator[tuple[str, str]]:
    """Its own Redis, sandbox and portal asking for openid, registered for back-channel logout.

    Its own sandbox, so the consent given here is not remembered in the other browser tests.
    """
    redis = RedisServer().start()
    sandbox = sandbox_process(redis.url).start()
    app = app_process(redis.url, sandbox, workers=2, AA_SCOPES=OPENID_SCOPES)
    body = {"client_id": "demo-portal", "backchannel_logout_uri": app.url + "/backchannel-logout"}
    admin_call(sandbox, "POST", "/_sandbox/redirect-uris", body)
    app.start()
    yield app.url, sandbox.url
    app.stop()
    sandbox.stop()
    redis.cleanup()


def test_signing_out_at_the_sandbox_signs_the_portal_out(
    browser: Browser, openid_portal: tuple[str, str]
) -> None:
    app_url, sandbox_url = openid_portal
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url + "/")
    page.get_by_role("button", name="Sign in with Altitude Angel").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wonderland")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("openid", exact=True)).to_be_visible()  # the consent page asks
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(app_url + "/flight-reports")

    page.goto(app_url + "/profile")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_text("Alice Liddell")).to_be_visible()
    expect(page.get_by_text("aa-user-5f1c2a9e-alice")).to_be_visible()
    page.goto(app_url + "/session")
    expect(page.get_by_text("openid").first).to_be_visible()  # among the granted scopes
    screenshot(page, "openid-session")

    # Signed out at the sandbox itself, not through the portal's sign-out button.
    page.goto(sandbox_url + "/sandbox/")
    page.get_by_role("button", name="Sign out of the sandbox").click()
    expect(page.get_by_text("You are not signed in")).to_be_visible()

    page.goto(app_url + "/profile")
    expect(page.get_by_role("heading", name="Please sign in")).to_be_visible()
    expect(page.get_by_text("Alice Liddell")).to_have_count(0)
    assert not [c for c in context.cookies() if c["name"] == "portal_session"]

    # Signed in again, the flow page begins with how the last sign-in ended, and why.
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wonderland")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(app_url + "/profile")
    page.goto(app_url + "/flow")
    first = page.locator(".arrow-title").first
    expect(first).to_have_text("Back-channel logout (your previous sign-in)")
    expect(page.get_by_text("before this sign-in, at ")).to_be_visible()
    screenshot(page, "openid-flow-backchannel")
    context.close()

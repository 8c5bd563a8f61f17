"""The minimal example app, run as a user would run it, signs in against the sandbox fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Playwright, expect

from altitudeangel_sandbox.processes import free_port, gunicorn_process
from altitudeangel_sandbox.testing import Sandbox
from tests.browser.chromium import launch
from tests.services import ROOT

pytestmark = pytest.mark.browser
EXAMPLE = ROOT / "examples" / "profile"


@pytest.fixture(scope="module")
def example_url(altitudeangel_sandbox: Sandbox) -> Iterator[str]:
    """The example under gunicorn, configured only through its documented variables."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    altitudeangel_sandbox.register_redirect_uri(url + "/callback", url + "/signed-out")
    env = {
        "AA_AUTH_URL": altitudeangel_sandbox.url,
        "AA_API_URL": altitudeangel_sandbox.url,
        "AA_CLIENT_ID": altitudeangel_sandbox.client_id,
        "AA_CLIENT_SECRET": altitudeangel_sandbox.client_secret,
        "AA_REDIRECT_URI": url + "/callback",
        "AA_REDIS_URL": altitudeangel_sandbox.redis_url(3),  # the fixture's Redis is enough
        "SECRET_KEY": "example-test-secret-key-" + "e" * 32,
        "PYTHONPATH": str(ROOT),
    }
    options = ("--chdir", str(EXAMPLE))
    service = gunicorn_process("app:create_app()", env, port=port, options=options, health_path="/")
    yield service.start().url
    service.stop()


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


def test_the_example_signs_in_shows_the_profile_and_signs_out(
    example_url: str, chromium: Browser, altitudeangel_sandbox: Sandbox
) -> None:
    context = chromium.new_context()
    page = context.new_page()
    page.goto(example_url + "/profile")  # offers a sign-in, which comes back here
    page.get_by_role("link", name="Sign in with Altitude Angel").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(altitudeangel_sandbox.users["alice"])
    page.get_by_role("button", name="Sign in").click()
    # The fixture's sandbox serves the whole test session: alice may have granted this client
    # its scopes in an earlier test, and then the sandbox asks no consent again.
    allow = page.get_by_role("button", name="Allow")
    profile = page.get_by_role("heading", name="Alice Liddell")
    expect(allow.or_(profile)).to_be_visible()
    if allow.is_visible():
        allow.click()
    page.wait_for_url(example_url + "/profile")
    expect(page.get_by_role("heading", name="Alice Liddell")).to_be_visible()
    expect(page.get_by_text("Signed in as Alice Liddell.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    # The sandbox's metadata names its end-session endpoint, which asks before ending its sign-in.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    expect(page.get_by_text("has ended too")).to_be_visible()
    page.goto(example_url + "/")
    expect(page.get_by_role("link", name="Sign in with Altitude Angel")).to_be_visible()
    context.close()


def test_the_example_offers_a_sign_in_and_refuses_a_sign_out_without_its_token(
    example_url: str,
) -> None:
    asked = requests.get(example_url + "/profile", allow_redirects=False, timeout=10)
    assert asked.status_code == 401  # a page to click on, never a bounce to the server
    assert "/login?next=/profile" in asked.text
    forged = requests.post(example_url + "/logout", allow_redirects=False, timeout=10)
    assert forged.status_code == 400  # Flask-WTF's CSRF check: no token, no sign-out

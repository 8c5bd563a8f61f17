"""One Chromium journey against the sandbox in each of its modes, each app set up as its docs say.

- ``aa``: the full sandbox; the app is given AA_AUTH_URL and reads the rest from its metadata.
- ``aa-public``: only what the real platform documents; the app is set up as docs/deploy.md
  says for the real platform (no iss, no revocation, an area to watch for reports).
- ``generic``: a standard OAuth 2.0 server with other paths and RFC 9068 tokens; AA_AUTH_URL
  alone, the paths come from its metadata.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.chromium import screenshot, sign_in
from tests.services import RedisServer, app_process, sandbox_process

MODES = {
    "aa": {},
    "aa-public": {
        "AA_REQUIRE_ISS": "0",
        "AA_REVOKE_URL": "",
        "REPORTS_AREA": "52.0,0.0,51.0,-2.0",
    },
    "generic": {"AA_REQUIRE_ISS": "0"},
}


@pytest.fixture(scope="module", params=list(MODES))
def mode_stack(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Redis, the sandbox in one mode, and the app configured for it: (mode, app URL)."""
    mode = str(request.param)
    redis = RedisServer().start()
    sandbox = sandbox_process(redis.url, SANDBOX_MODE=mode).start()
    app = app_process(redis.url, sandbox, workers=1, **MODES[mode]).start()
    yield mode, app.url
    app.stop()
    sandbox.stop()
    redis.cleanup()


def test_the_same_journey_works_in_every_mode(
    mode_stack: tuple[str, str], browser: Browser
) -> None:
    mode, url = mode_stack
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, url, "alice", "wonderland")
    expect(page.get_by_role("heading", name="Your flight reports")).to_be_visible()
    expect(page.get_by_text("Thames at Reading bank survey")).to_be_visible()

    page.get_by_role("link", name="Thames at Reading bank survey").or_(
        page.locator("tr", has_text="Thames at Reading bank survey").locator("a")
    ).first.click()
    expect(page.get_by_role("heading", name="Thames at Reading bank survey")).to_be_visible()

    page.get_by_role("link", name="New report").click()
    page.get_by_label("Name").fill(f"Journey over Reading ({mode})")
    page.get_by_label("Type of flight").select_option("rec")
    page.get_by_label("Start (local time)").fill("2031-05-04T10:00")
    page.get_by_label("End (local time)").fill("2031-05-04T11:00")
    page.get_by_label("Latitude").fill("51.4545")
    page.get_by_label("Longitude").fill("-0.9781")
    page.get_by_role("button", name="File report").click()
    expect(page.get_by_role("heading", name=f"Journey over Reading ({mode})")).to_be_visible()

    page.get_by_role("button", name="Complete this report").click()
    expect(page.get_by_text("completed", exact=True)).to_be_visible()
    screenshot(page, f"mode-{mode}-completed")

    page.get_by_role("link", name="Flight reports").click()
    expect(page.get_by_text(f"Journey over Reading ({mode})")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    if mode != "aa-public":  # metadata names an end-session endpoint, which asks first
        assert not page.url.startswith(url)
        page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(url + "/signed-out*")
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    context.close()

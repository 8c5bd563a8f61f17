"""The whole sign-in → consent → reports → sign-out round trip in Chromium (checklist E.31)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.chromium import assert_accessible, screenshot, sign_in
from tests.portal.test_flow import PUSHED_SIGN_IN_STEPS
from tests.services import ServiceProcess


def test_alice_signs_in_files_a_report_and_signs_out(
    page: Page, app_url: str, browser: Browser
) -> None:
    page.goto(app_url + "/")
    screenshot(page, "home")
    assert_accessible(page)
    page.get_by_role("button", name="Sign in with Altitude Angel").click()

    expect(page.get_by_label("Username")).to_be_visible()
    screenshot(page, "sandbox-login")
    assert_accessible(page)
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wonderland")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    expect(page.get_by_text("manage_flightreports")).to_be_visible()
    screenshot(page, "sandbox-consent")
    assert_accessible(page)
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(app_url + "/flight-reports")
    expect(page.get_by_role("heading", name="Your flight reports")).to_be_visible()
    screenshot(page, "flight-reports")
    assert_accessible(page)

    page.locator("tbody a").first.click()
    expect(page.locator("svg.sketch")).to_be_visible()
    screenshot(page, "flight-report")
    assert_accessible(page)

    page.get_by_role("link", name="New report").click()
    expect(page.get_by_role("heading", name="File a new flight report")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name").fill("Browser test flight over Reading")
    page.get_by_label("Type of flight").select_option("rec")
    page.get_by_label("Start (local time)").fill("2031-05-04T10:00")
    page.get_by_label("End (local time)").fill("2031-05-04T11:00")
    page.get_by_label("Latitude").fill("51.4545")
    page.get_by_label("Longitude").fill("-0.9781")
    screenshot(page, "new-report")
    page.get_by_role("button", name="File report").click()
    expect(page.get_by_role("heading", name="Browser test flight over Reading")).to_be_visible()

    page.get_by_role("link", name="Flight reports").click()
    expect(page.get_by_text("Browser test flight over Reading")).to_be_visible()

    page.get_by_role("link", name="Session").click()
    expect(page.get_by_text("Granted scopes")).to_be_visible()
    screenshot(page, "session")
    assert_accessible(page)

    page.get_by_role("link", name="Flow").click()
    expect(page.locator(".arrow-title").first).to_have_text("Sign in")
    screenshot(page, "flow")
    assert_accessible(page)

    cookies = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()  # the sandbox asks to end its sign-in too
    page.wait_for_url(app_url + "/signed-out*")
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    assert_accessible(page)
    assert not [c for c in page.context.cookies() if c["name"] == "portal_session"]

    page.goto(app_url + "/flight-reports")
    expect(page.get_by_role("heading", name="Please sign in")).to_be_visible()
    assert page.url == app_url + "/flight-reports"  # a page to click on, not a bounce

    replay = browser.new_context()
    replay.add_cookies([c for c in cookies if c["name"] == "portal_session"])  # type: ignore[list-item]
    stale = replay.new_page()
    stale.goto(app_url + "/flight-reports")
    expect(stale.get_by_role("heading", name="Please sign in")).to_be_visible()
    expect(stale.get_by_text("Thames at Reading bank survey")).to_have_count(0)
    replay.close()


def test_bob_declines_consent(page: Page, app_url: str) -> None:
    page.goto(app_url + "/")
    page.get_by_role("button", name="Sign in with Altitude Angel").click()
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("builder")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="You declined")).to_be_visible()
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    screenshot(page, "declined")
    assert_accessible(page)


def test_alice_and_bob_never_see_each_others_reports(browser: Browser, app_url: str) -> None:
    names = {}
    for username, password in (("alice", "wonderland"), ("bob", "builder")):
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, app_url, username, password)
        rows = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
        names[username] = set(rows)
        user = page.get_by_role("heading", level=1).inner_text()
        assert re.search("flight reports", user, re.I)
        context.close()
    assert names["alice"] and names["bob"]
    assert not names["alice"] & names["bob"]


def test_pages_are_usable_on_a_phone(browser: Browser, app_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(app_url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(page, "home-phone")
    context.close()


def test_chosen_scopes_show_up_in_the_flow(browser: Browser, app_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url + "/")
    page.get_by_label("query_mapdata").uncheck()
    page.get_by_label("query_mapairdata").check()
    page.get_by_role("button", name="Sign in with Altitude Angel").click()
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("builder")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("query_mapairdata")).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(app_url + "/flight-reports")
    page.get_by_role("link", name="Flow").click()
    page.wait_for_url(app_url + "/flow")
    titles = page.locator(".arrow-title").all_inner_texts()
    assert titles[: len(PUSHED_SIGN_IN_STEPS)] == PUSHED_SIGN_IN_STEPS
    page.locator("details").nth(0).locator("summary").click()
    chosen = page.get_by_text("query_userinfo manage_flightreports query_mapairdata")
    expect(chosen.first).to_be_visible()
    context.close()


def test_the_app_server_log_holds_no_code_state_or_token(
    browser_stack: tuple[ServiceProcess, ServiceProcess], browser: Browser, app_url: str
) -> None:
    context = browser.new_context()
    sign_in(context.new_page(), app_url, "alice", "wonderland")
    context.close()
    log = browser_stack[0].log_text()
    assert '"GET /callback HTTP/1.1" 303' in log  # the access log did record the callback
    for leak in ("code=", "state=", "code_verifier", "eyJ", "Bearer ", "demo+portal"):
        assert leak not in log

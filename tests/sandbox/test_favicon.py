"""The sandbox's icon: linked from every page and at /favicon.ico, so browsers log no 404."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No background networking: this closed network refuses Chromium's calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ICON = "/sandbox/static/favicon.svg"
PAGES = ["/sandbox/", "/sandbox/login", "/oauth/v2/authorize", "/oauth/v2/logout"]
# One page, one error page and one JSON document: every other page shares the template.
VISITS = ["/sandbox/", "/oauth/v2/authorize", "/.well-known/oauth-authorization-server"]


def test_favicon_is_an_svg_at_both_paths(base_url: str) -> None:
    for path in ("/favicon.ico", ICON):
        response = requests.get(base_url + path, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        assert response.text.startswith("<svg")


def test_every_page_links_the_icon(base_url: str) -> None:
    for path in [*PAGES, "/sandbox/nothing-here"]:
        page = requests.get(base_url + path, timeout=5).text
        assert f'<link rel="icon" type="image/svg+xml" href="{ICON}">' in page, path


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.mark.browser
def test_chromium_logs_no_404_on_any_sandbox_page(base_url: str, chromium: Browser) -> None:
    errors: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "404" in message.text:
            errors.append(message.text)

    for path in VISITS:
        # A fresh context each time: no icon cached from the page before.
        context = chromium.new_context()
        page = context.new_page()
        page.on("console", note)
        if path in PAGES:
            with page.expect_response(lambda r: r.url.endswith(ICON)) as icon:
                page.goto(base_url + path)
            assert icon.value.status == 200
        else:
            page.goto(base_url + path)
            # Chromium asks for /favicon.ico after the document, with no event to wait for.
            page.wait_for_timeout(700)
        context.close()
    assert errors == []

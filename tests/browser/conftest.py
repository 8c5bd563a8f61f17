"""A real browser (Debian's Chromium via Playwright) against the app under gunicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from tests.browser.chromium import launch
from tests.services import RedisServer, ServiceProcess, app_process, sandbox_process

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser_stack() -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """Its own Redis, sandbox and app, so no consent is remembered from other tests."""
    redis = RedisServer().start()
    sandbox = sandbox_process(redis.url).start()
    app = app_process(redis.url, sandbox, workers=2).start()
    yield app, sandbox
    app.stop()
    sandbox.stop()
    redis.cleanup()


@pytest.fixture(scope="session")
def app_url(browser_stack: tuple[ServiceProcess, ServiceProcess]) -> str:
    return browser_stack[0].url


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = launch(playwright)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()

"""Session-wide real services: one private redis-server and one sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Playwright, sync_playwright

from tests.services import RedisServer, ServiceProcess, sandbox_process

# The altitudeangel_sandbox fixture that tests/examples uses comes from the sandbox's pytest
# plugin, registered by its entry point: the venv installs the sandbox (make's venv step). Naming
# it in pytest_plugins too would register it twice. pytester runs a host's test session.
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """The sandbox with its defaults (15-minute tokens), fault injection on."""
    service = sandbox_process(redis_server.url).start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright for the whole run: its sync API allows one instance per thread."""
    with sync_playwright() as instance:
        yield instance

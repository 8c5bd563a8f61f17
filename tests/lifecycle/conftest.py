"""A sandbox whose access tokens live a few seconds, so refreshes happen during the tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from tests.portal.conftest import app_environment, portal_for
from tests.services import RedisServer, ServiceProcess, clear_faults, sandbox_process

TOKEN_TTL = 4  # seconds; the refresh margin is capped at half of it


@pytest.fixture(scope="session")
def short_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    service = sandbox_process(redis_server.url, SANDBOX_ACCESS_TOKEN_TTL=str(TOKEN_TTL)).start()
    yield service
    service.stop()


@pytest.fixture
def short_app(
    redis_server: RedisServer, short_sandbox: ServiceProcess
) -> Iterator[Callable[..., Flask]]:
    """Build in-process apps against the short-lived-token sandbox; faults are cleared after."""

    def build(redis: RedisServer = redis_server, **settings: str) -> Flask:
        return portal_for(app_environment(redis, short_sandbox, **settings))

    yield build
    clear_faults(short_sandbox)

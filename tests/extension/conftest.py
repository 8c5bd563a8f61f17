"""The extension's own tests use the portal as the host app whose routes a ``next`` may name,
a stand-in OpenID provider for ID and logout tokens, and a sandbox playing a FAPI 2.0 server."""

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.extension.openid_standin import StandInProvider
from tests.portal.conftest import portal_app  # noqa: F401 - a fixture, shared
from tests.services import RedisServer, ServiceProcess, sandbox_process


@pytest.fixture
def provider() -> Iterator[StandInProvider]:
    """A stand-in OpenID provider over HTTP, fresh for each test."""
    started = StandInProvider().start()
    yield started
    started.stop()


# A FAPI 2.0 authorization server: PAR and DPoP required of every client.
FAPI_SANDBOX = {"SANDBOX_REQUIRE_PAR": "1", "SANDBOX_DPOP": "required"}


@pytest.fixture(scope="module")
def fapi_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    service = sandbox_process(redis_server.url, **FAPI_SANDBOX).start()
    yield service
    service.stop()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[requests.PreparedRequest]]:
    """Collect every request made with requests, as it went on the wire.

    A spy, not a mock: each request still goes to the sandbox, which checks it before answering.
    """
    seen: list[requests.PreparedRequest] = []
    real = requests.Session.send

    def send(session: requests.Session, request: requests.PreparedRequest, **kw: Any) -> Any:
        seen.append(request)
        return real(session, request, **kw)

    monkeypatch.setattr(requests.Session, "send", send)
    yield seen

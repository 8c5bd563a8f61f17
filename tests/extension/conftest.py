"""The extension's own tests use the portal as the host app whose routes a ``next`` may name,
and a stand-in OpenID provider for ID and logout tokens."""

from collections.abc import Iterator

import pytest

from tests.extension.openid_standin import StandInProvider
from tests.portal.conftest import portal_app  # noqa: F401 - a fixture, shared


@pytest.fixture
def provider() -> Iterator[StandInProvider]:
    """A stand-in OpenID provider over HTTP, fresh for each test."""
    started = StandInProvider().start()
    yield started
    started.stop()

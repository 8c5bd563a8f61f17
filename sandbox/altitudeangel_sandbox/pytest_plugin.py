"""The ``altitudeangel_sandbox`` pytest fixture: the sandbox, started for the test session.

Installed with the package as a pytest plugin (entry point ``pytest11``), so a test of your
app just asks for it::

    def test_sign_in(altitudeangel_sandbox: Sandbox) -> None:
        app = create_app({
            "AA_AUTH_URL": altitudeangel_sandbox.url,
            "AA_CLIENT_ID": altitudeangel_sandbox.client_id,
            "AA_CLIENT_SECRET": altitudeangel_sandbox.client_secret,
            "AA_REDIS_URL": altitudeangel_sandbox.redis_url(1),
            ...
        })

Its type, ``Sandbox``, and the sign-in driver live in ``altitudeangel_sandbox.testing``, which
imports without pytest. The sandbox's mode comes from the ``altitudeangel_sandbox_mode`` ini
option (``aa`` when unset) or from a fixture of that name that a ``conftest.py`` overrides.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from altitudeangel_sandbox.testing import Sandbox, running_sandbox

__all__ = ["Sandbox", "altitudeangel_sandbox", "altitudeangel_sandbox_mode"]

MODE_OPTION = "altitudeangel_sandbox_mode"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ini option that chooses the sandbox's mode."""
    parser.addini(MODE_OPTION, "the sandbox's SANDBOX_MODE: aa, aa-public or generic", default="aa")


@pytest.fixture(scope="session")
def altitudeangel_sandbox_mode(pytestconfig: pytest.Config) -> str:
    """The mode the session's sandbox runs in; override this fixture to choose another."""
    return str(pytestconfig.getini(MODE_OPTION))


@pytest.fixture(scope="session")
def altitudeangel_sandbox(altitudeangel_sandbox_mode: str) -> Iterator[Sandbox]:
    """The sandbox on a free port with its own redis-server, for the whole test session."""
    with running_sandbox(altitudeangel_sandbox_mode) as sandbox:
        yield sandbox

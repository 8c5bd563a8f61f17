"""The deployed topology, started once for the module that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deployed.topology import NGINX, DeployedPortal, start_deployed_portal


@pytest.fixture(scope="module")
def deployed() -> Iterator[DeployedPortal]:
    if not NGINX.is_file():
        pytest.fail(f"nginx is needed at {NGINX} for the deployed tests: run `make test`")
    portal = start_deployed_portal()
    try:
        yield portal
    finally:
        portal.stop()

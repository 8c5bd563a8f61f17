"""`make run` on another port: run-dev.sh registers that port's callback with the sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.oauth_driver import sign_in_over_http
from tests.services import ROOT, free_port, wait_for_http


@pytest.fixture
def dev_run() -> Iterator[str]:
    """Start scripts/run-dev.sh on free ports; stop its whole process group afterwards."""
    ports = {name: str(free_port()) for name in ("APP_PORT", "SANDBOX_PORT", "REDIS_PORT")}
    process = subprocess.Popen(
        ["scripts/run-dev.sh"],
        cwd=ROOT,
        env={**os.environ, **ports},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    app_url = f"http://127.0.0.1:{ports['APP_PORT']}"
    try:
        wait_for_http(
            f"http://127.0.0.1:{ports['SANDBOX_PORT']}/.well-known/openid-configuration",
            process,
            30,
        )
        wait_for_http(app_url + "/healthz", process, 30)
        yield app_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_make_run_on_another_port_signs_in(dev_run: str) -> None:
    browser = sign_in_over_http(dev_run)
    assert browser.get(dev_run + "/flight-reports", timeout=10).status_code == 200

"""`make run` on another port: run-dev.sh registers that port's URLs with the sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.oauth_driver import USERS, SandboxUser, parse_forms, sign_in_over_http
from tests.services import ROOT, free_port, wait_for_http


@contextmanager
def running_dev(**env: str) -> Iterator[tuple[str, str]]:
    """Start scripts/run-dev.sh on free ports; stop its whole process group afterwards."""
    ports = {name: str(free_port()) for name in ("APP_PORT", "SANDBOX_PORT", "REDIS_PORT")}
    process = subprocess.Popen(
        ["scripts/run-dev.sh"],
        cwd=ROOT,
        env={**os.environ, **ports, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    app_url = f"http://127.0.0.1:{ports['APP_PORT']}"
    sandbox_url = f"http://127.0.0.1:{ports['SANDBOX_PORT']}"
    try:
        wait_for_http(sandbox_url + "/.well-known/openid-configuration", process, 30)
        wait_for_http(app_url + "/healthz", process, 30)
        yield app_url, sandbox_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture
def dev_run() -> Iterator[str]:
    with running_dev() as (app_url, _):
        yield app_url


def test_make_run_on_another_port_signs_in(dev_run: str) -> None:
    browser = sign_in_over_http(dev_run)
    assert browser.get(dev_run + "/flight-reports", timeout=10).status_code == 200


def test_make_run_on_another_port_hears_a_sign_out_at_the_sandbox() -> None:
    with running_dev(AA_SCOPES="openid query_userinfo manage_flightreports") as urls:
        app_url, sandbox_url = urls
        browser = requests.Session()  # one cookie jar for the app and the sandbox, as a browser
        started = browser.get(app_url + "/login", allow_redirects=False, timeout=10)
        person = SandboxUser("alice", USERS["alice"], http=browser)
        callback = person.authorize(started.headers["Location"], app_url + "/callback")
        assert browser.get(callback, allow_redirects=False, timeout=10).status_code == 303
        assert browser.get(app_url + "/flight-reports", timeout=10).status_code == 200

        [sign_out] = parse_forms(browser.get(sandbox_url + "/sandbox/", timeout=10).text)
        signed_out = browser.post(sandbox_url + sign_out.action, data=sign_out.fields, timeout=10)
        assert "You are not signed in" in signed_out.text
        # The sandbox told the app, at the back-channel logout URI of APP_PORT it registered.
        assert browser.get(app_url + "/flight-reports", timeout=10).status_code == 401

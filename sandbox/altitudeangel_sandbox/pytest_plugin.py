"""A pytest fixture for apps that sign in with Altitude Angel: the sandbox, started for the test.

Installed as a pytest plugin with the package, so a test of your app just asks for it::

    def test_sign_in(altitudeangel_sandbox):
        app = create_app({
            "AA_AUTH_URL": altitudeangel_sandbox.url,
            "AA_API_URL": altitudeangel_sandbox.url,
            "AA_CLIENT_ID": altitudeangel_sandbox.client_id,
            "AA_CLIENT_SECRET": altitudeangel_sandbox.client_secret,
            "AA_REDIRECT_URI": "http://127.0.0.1:5000/callback",
            ...
        })
        altitudeangel_sandbox.register_redirect_uri("http://127.0.0.1:5000/callback")

The sandbox runs as its own process on a free port of 127.0.0.1, with its own ``redis-server``
(which must be installed: ``apt-get install redis-server``), and is stopped after the session.
Its demo users are ``alice`` / ``wonderland`` and ``bob`` / ``builder``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess  # nosec B404 - the fixture starts redis-server and the sandbox
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DEMO_CLIENT_ID = "demo-portal"
DEMO_CLIENT_SECRET = "demo+portal/secret=&%?#2026"  # nosec B105 - the sandbox's published demo
USERS = {"alice": "wonderland", "bob": "builder"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox's process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310  # nosec B310
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@dataclass
class Sandbox:
    """A running sandbox: where it is, and the demo client's credentials."""

    url: str
    admin_secret: str
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))

    @property
    def authorize_url(self) -> str:
        return self.url + "/oauth/v2/authorize"

    @property
    def token_url(self) -> str:
        return self.url + "/oauth/v2/token"

    @property
    def userprofile_url(self) -> str:
        return self.url + "/userProfile"

    def register_redirect_uri(self, redirect_uri: str, post_logout_redirect_uri: str = "") -> None:
        """Let the demo client use your app's callback (and signed-out page) on any port."""
        body: dict[str, str] = {"client_id": self.client_id, "redirect_uri": redirect_uri}
        if post_logout_redirect_uri:
            body["post_logout_redirect_uri"] = post_logout_redirect_uri
        request = urllib.request.Request(  # noqa: S310 - the sandbox on loopback
            self.url + "/_sandbox/redirect-uris",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Sandbox-Admin": self.admin_secret},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310  # nosec B310
            pass


def start_sandbox(
    directory: Path, **settings: str
) -> tuple[Sandbox, list[subprocess.Popen[bytes]]]:
    """Start a redis-server and the sandbox in ``directory``; return the sandbox and processes."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise RuntimeError("the sandbox needs redis-server: apt-get install redis-server")
    redis_port, port = _free_port(), _free_port()
    processes = [
        subprocess.Popen(  # noqa: S603  # nosec B603 - a fixed argument list
            [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(directory)],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]  # fmt: skip
    admin_secret = "fixture-admin-" + os.urandom(8).hex()
    env = {
        **os.environ,
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SANDBOX_ADMIN_SECRET": admin_secret,
        **settings,
    }
    with open(directory / "sandbox.log", "ab") as log:
        processes.append(
            subprocess.Popen(  # noqa: S603  # nosec B603 - a fixed argument list
                [sys.executable, "-m", "altitudeangel_sandbox"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/favicon.ico", processes[-1])
    except BaseException:
        for process in reversed(processes):
            _stop(process)
        raise
    return Sandbox(url, admin_secret), processes


@pytest.fixture(scope="session")
def altitudeangel_sandbox() -> Iterator[Sandbox]:
    """The sandbox on a free port with its own Redis, for the whole test session."""
    directory = Path(tempfile.mkdtemp(prefix="altitudeangel-sandbox-"))
    sandbox, processes = start_sandbox(directory)
    try:
        yield sandbox
    finally:
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(directory, ignore_errors=True)

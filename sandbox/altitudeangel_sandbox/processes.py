"""Start and stop real processes on free loopback ports: redis-server, the sandbox, gunicorn apps.

One harness for the pytest fixture, this repository's tests and its benchmarks. Every process
runs in its own process group, so stopping it also stops what it forked (gunicorn's workers).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess  # nosec B404 - the harness exists to start redis-server, the sandbox and apps
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis
from prometheus_client.parser import text_string_to_metric_families

PYTHON = sys.executable
DEMO_CLIENT_ID = "demo-portal"
DEMO_CLIENT_SECRET = "demo+portal/secret=&%?#2026"  # nosec B105 - the sandbox's published demo
SANDBOX_HEALTH_PATH = "/.well-known/oauth-authorization-server"


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    """Wait until something accepts connections on ``port``; fail if ``process`` dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} after {timeout} s")


def wait_for_http(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    """Wait until ``url`` answers with any HTTP status; fail if ``process`` dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310  # nosec B310 - loopback
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer after {timeout} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Stop a process group started by this harness: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


@dataclass
class RedisServer:
    """A private redis-server on a free port, in a temporary directory, keeping nothing on disk."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="redis-test-")))
    process: subprocess.Popen[bytes] | None = None
    options: tuple[str, ...] = ()  # more redis-server arguments

    @property
    def url(self) -> str:
        return self.database_url(0)

    def database_url(self, db: int) -> str:
        """Return the URL of database ``db`` of this server."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603 - a fixed argument list
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
                *self.options,
            ],
            start_new_session=True,
        )  # fmt: skip
        wait_for_port(self.port, self.process)
        return self

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, socket_timeout=5)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class ServiceProcess:
    """An HTTP service (the sandbox or an app) started as a child process on a free port."""

    args: list[str]
    env: Mapping[str, str]
    port: int
    health_path: str = "/"
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    cwd: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        environ = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="service-", suffix=".log")[1])
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  # nosec B603 - a fixed argument list
                self.args,
                cwd=self.cwd,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_http(self.url + self.health_path, self.process)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}; its log ends:\n{self.log_text()[-2000:]}") from error
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def sandbox_process(redis_url: str, admin_secret: str, **env: str) -> ServiceProcess:
    """Describe the sandbox (``python -m altitudeangel_sandbox``) on a free port; ``start()`` it."""
    port = free_port()
    settings = {
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_REDIS_URL": redis_url,
        "SANDBOX_ADMIN_SECRET": admin_secret,
        **env,
    }
    return ServiceProcess(
        args=[PYTHON, "-m", "altitudeangel_sandbox"],
        env=settings,
        port=port,
        health_path=SANDBOX_HEALTH_PATH,
    )


def gunicorn_process(
    app: str,
    env: Mapping[str, str],
    *,
    port: int | None = None,
    options: tuple[str, ...] = (),
    cwd: Path | None = None,
    health_path: str = "/healthz",
) -> ServiceProcess:
    """Describe ``app`` (``module:variable``) under gunicorn on a free port; ``start()`` it.

    It listens on ``port`` of 127.0.0.1 (the command line wins over a config file's ``bind``);
    ``options`` go to gunicorn before the app (``-c gunicorn.conf.py``, ``-w 2``).
    """
    port = port or free_port()
    bind = (
        () if any(o.startswith(("-b", "--bind")) for o in options) else ("-b", f"127.0.0.1:{port}")
    )
    args = [PYTHON, "-m", "gunicorn", *bind, *options, app]
    return ServiceProcess(args=args, env=env, port=port, health_path=health_path, cwd=cwd)


def admin_call(
    sandbox_url: str, admin_secret: str, method: str, path: str, body: object = None
) -> None:
    """Call one of the sandbox's admin endpoints (redirect URIs, faults)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the sandbox on loopback
        sandbox_url + path,
        data=data,
        headers={"Content-Type": "application/json", "X-Sandbox-Admin": admin_secret},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  # nosec B310
        if response.status not in (200, 201, 204):
            raise RuntimeError(f"{method} {path} answered {response.status}")


def metric_sum(service_url: str, name: str, token: str | None = None, **labels: str) -> float:
    """Sum the samples of ``name`` on a service's /metrics page whose labels include ``labels``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(service_url + "/metrics", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
        text = response.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total

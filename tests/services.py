"""Real services for the tests: a private redis-server, the sandbox and the app over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ADMIN_SECRET = "test-admin-secret"
METRICS_TOKEN = "test-metrics-token-0123456789abcdef"


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
    """Wait until ``url`` answers with any HTTP status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback test URL
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer after {timeout} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Stop a process group started by these helpers: SIGTERM, then SIGKILL."""
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

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
                "--enable-debug-command", "local",
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
    """A Python service (the sandbox or the app) started as a child process on a free port."""

    args: list[str]
    env: Mapping[str, str]
    port: int
    health_path: str = "/"
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    cwd: Path = ROOT

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        environ = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        if self.log_path is None:
            self.log_path = Path(tempfile.mkstemp(prefix="service-", suffix=".log")[1])
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
                self.args,
                cwd=self.cwd,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_http(self.url + self.health_path, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def sandbox_process(redis_url: str, **env: str) -> ServiceProcess:
    """Describe a sandbox on a free port (``python -m altitudeangel_sandbox``).

    Call ``start()`` to run it.
    """
    port = free_port()
    settings = {
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_REDIS_URL": redis_url,
        "SANDBOX_FAULTS": "1",
        "SANDBOX_ADMIN_SECRET": ADMIN_SECRET,
        **env,
    }
    return ServiceProcess(
        args=[PYTHON, "-m", "altitudeangel_sandbox"],
        env=settings,
        port=port,
        health_path="/.well-known/oauth-authorization-server",
    )


DEMO_CLIENT_SECRET = "demo+portal/secret=&%?#2026"


def register_redirect_uri(sandbox: ServiceProcess, redirect_uri: str) -> None:
    """Tell the sandbox about the callback and signed-out URLs of an app on a random port."""
    origin = redirect_uri.rsplit("/", 1)[0]
    body = {
        "client_id": "demo-portal",
        "redirect_uri": redirect_uri,
        "post_logout_redirect_uri": origin + "/signed-out",
    }
    admin_call(sandbox, "POST", "/_sandbox/redirect-uris", body)


def app_process(
    redis_url: str,
    sandbox: ServiceProcess,
    *,
    workers: int = 2,
    redirect_uri: str | None = None,
    **env: str,
) -> ServiceProcess:
    """Describe the app under gunicorn on a free port; call ``start()`` to run it."""
    port = free_port()
    redirect_uri = redirect_uri or f"http://127.0.0.1:{port}/callback"
    register_redirect_uri(sandbox, redirect_uri)
    settings = {
        "AA_AUTH_URL": sandbox.url,
        "AA_CLIENT_ID": "demo-portal",
        "AA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "AA_REDIRECT_URI": redirect_uri,
        "AA_REQUIRE_ISS": "1",
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "LOGIN_RATE_LIMIT": "100000 per minute",  # many sign-ins from 127.0.0.1 in a test
        "FLOW_TRACE": "1",
        "METRICS_TOKEN": METRICS_TOKEN,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        **env,
    }
    gunicorn = str(Path(PYTHON).with_name("gunicorn"))
    return ServiceProcess(
        args=[gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"],
        env=settings,
        port=port,
        health_path="/healthz",
    )


def worker_pids(master: ServiceProcess) -> list[int]:
    """Return the pids of a gunicorn master's workers."""
    assert master.process is not None
    children = Path(f"/proc/{master.process.pid}/task/{master.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def admin_call(sandbox: ServiceProcess, method: str, path: str, body: object = None) -> None:
    """Call one of the sandbox's admin endpoints (redirect URIs, faults)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback test URL
        sandbox.url + path,
        data=data,
        headers={"Content-Type": "application/json", "X-Sandbox-Admin": ADMIN_SECRET},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status in (200, 201, 204)


def inject_fault(
    sandbox: ServiceProcess,
    target: str,
    kind: str,
    count: int = 1,
    seconds: float = 30,
    interval: float = 1.0,
) -> None:
    """Make the sandbox's next ``count`` requests to ``target`` fail as ``kind``.

    A ``hang`` lasts ``seconds``; a ``drip`` sends its real answer a byte every ``interval``
    seconds for ``seconds``.
    """
    body = {"target": target, "kind": kind, "count": count, "seconds": seconds}
    if kind == "drip":
        body["interval"] = interval
    admin_call(sandbox, "POST", "/_sandbox/faults", body)


def clear_faults(sandbox: ServiceProcess) -> None:
    admin_call(sandbox, "DELETE", "/_sandbox/faults")


def metric_sum(service: ServiceProcess, name: str, **labels: str) -> float:
    """Sum the samples of ``name`` on a service's /metrics page whose labels include ``labels``."""
    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(  # noqa: S310 - loopback test URL
        service.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total

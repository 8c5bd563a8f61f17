"""Real services for the tests: a private redis-server, the sandbox and the app over HTTP.

The processes come from the sandbox's harness (``altitudeangel_sandbox.processes``); this module
adds what is this repository's own: the portal under its gunicorn.conf.py, the tests' admin
secret and metrics token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from altitudeangel_sandbox import processes
from altitudeangel_sandbox.processes import (
    DEMO_CLIENT_SECRET,
    PYTHON,
    free_port,
    gunicorn_process,
    stop_process,
    wait_for_http,
    wait_for_port,
)

__all__ = [
    "ADMIN_SECRET",
    "DEMO_CLIENT_SECRET",
    "METRICS_TOKEN",
    "PYTHON",
    "ROOT",
    "RedisServer",
    "ServiceProcess",
    "admin_call",
    "app_process",
    "clear_faults",
    "free_port",
    "inject_fault",
    "metric_sum",
    "register_redirect_uri",
    "sandbox_process",
    "stop_process",
    "wait_for_http",
    "wait_for_port",
    "worker_pids",
]

ROOT = Path(__file__).resolve().parent.parent
ADMIN_SECRET = "test-admin-secret"
METRICS_TOKEN = "test-metrics-token-0123456789abcdef"


@dataclass
class RedisServer(processes.RedisServer):
    """A private redis-server that also answers DEBUG (the fault tests pause it with SLEEP)."""

    options: tuple[str, ...] = ("--enable-debug-command", "local")


@dataclass
class ServiceProcess(processes.ServiceProcess):
    """A service started from this checkout unless told otherwise (gunicorn.conf.py, wsgi.py)."""

    cwd: Path | None = ROOT


def sandbox_process(redis_url: str, **env: str) -> processes.ServiceProcess:
    """Describe a sandbox on a free port with fault injection on; call ``start()`` to run it."""
    return processes.sandbox_process(redis_url, ADMIN_SECRET, **{"SANDBOX_FAULTS": "1", **env})


def register_redirect_uri(sandbox: processes.ServiceProcess, redirect_uri: str) -> None:
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
    sandbox: processes.ServiceProcess,
    *,
    workers: int = 2,
    redirect_uri: str | None = None,
    register: bool = True,
    **env: str,
) -> processes.ServiceProcess:
    """Describe the app under gunicorn on a free port; call ``start()`` to run it.

    Its callback is registered with the sandbox unless ``register`` is false (a sandbox that is
    not running yet: ``register_redirect_uri`` once it is).
    """
    port = free_port()
    redirect_uri = redirect_uri or f"http://127.0.0.1:{port}/callback"
    if register:
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
        "GUNICORN_WORKERS": str(workers),
        **env,
    }
    options = ("-c", "gunicorn.conf.py")
    return gunicorn_process("wsgi:app", settings, port=port, options=options, cwd=ROOT)


def worker_pids(master: processes.ServiceProcess) -> list[int]:
    """Return the pids of a gunicorn master's workers."""
    assert master.process is not None
    children = Path(f"/proc/{master.process.pid}/task/{master.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def admin_call(
    sandbox: processes.ServiceProcess, method: str, path: str, body: object = None
) -> None:
    """Call one of the sandbox's admin endpoints (redirect URIs, faults)."""
    processes.admin_call(sandbox.url, ADMIN_SECRET, method, path, body)


def inject_fault(
    sandbox: processes.ServiceProcess,
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


def clear_faults(sandbox: processes.ServiceProcess) -> None:
    admin_call(sandbox, "DELETE", "/_sandbox/faults")


def metric_sum(service: processes.ServiceProcess, name: str, **labels: str) -> float:
    """Sum the samples of ``name`` on a service's /metrics page whose labels include ``labels``."""
    return processes.metric_sum(service.url, name, METRICS_TOKEN, **labels)

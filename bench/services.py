"""Everything a benchmark runs, on free loopback ports and in one temporary directory.

A ``Stack`` owns what it starts and stops all of it on exit, even when a scenario fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

from altitudeangel_sandbox import processes
from altitudeangel_sandbox.processes import (
    DEMO_CLIENT_SECRET,
    RedisServer,
    ServiceProcess,
    free_port,
    gunicorn_process,
    stop_process,
    wait_for_http,
)
from deploy.local_nginx import NGINX, Nginx

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-secret-key-" + "b" * 32
ADMIN_SECRET = "bench-admin-secret"  # nosec B105 - the bench's own sandbox on loopback
METRICS_TOKEN = "bench-metrics-token-0123456789abcdef"  # nosec B105 - as above
APP_MODULE = "wsgi:app"
BASELINE_MODULE = "bench.baseline.wsgi:app"
FLOOR_MODULE = "bench.floor.wsgi:app"
PEER_MODULE = "bench.peers.wsgi:app"

STATIC_CONFIG = """daemon off;
@USER@
master_process on;
worker_processes 1;
pid @RUN@/nginx.pid;
error_log @RUN@/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path @RUN@/client_body;
    proxy_temp_path @RUN@/proxy;
    fastcgi_temp_path @RUN@/fastcgi;
    uwsgi_temp_path @RUN@/uwsgi;
    scgi_temp_path @RUN@/scgi;
    keepalive_requests 1000000;
    server_tokens off;
    server {
        listen 127.0.0.1:@PORT@;
        location = /healthz { return 200 "ok\\n"; }
        location = /flightReport {
            default_type application/json;
            alias @RUN@/flightReport.json;
        }
    }
}
"""


class StaticUpstream:
    """nginx answering ``GET /flightReport`` with a fixed JSON body, whatever the token."""

    def __init__(self, body: bytes, run_dir: Path) -> None:
        self.port = free_port()
        self.run_dir = run_dir
        self.process: subprocess.Popen[bytes] | None = None
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "flightReport.json").write_bytes(body)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StaticUpstream:
        config = self.run_dir / "nginx.conf"
        text = STATIC_CONFIG.replace("@RUN@", str(self.run_dir))
        # As root, nginx's workers would run as nobody, who cannot enter the private run dir.
        text = text.replace("@USER@", "user root;" if os.geteuid() == 0 else "")
        config.write_text(text.replace("@PORT@", str(self.port)))
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [str(NGINX), "-p", str(self.run_dir), "-e", str(self.run_dir / "error.log")]
            + ["-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_http(self.url + "/healthz", self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


class Stack:
    """Start services for a benchmark; stop them all when the ``with`` block ends."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self._exit = ExitStack()
        self._exit.callback(shutil.rmtree, self.tmp, True)
        self._services: list[ServiceProcess] = []

    def __enter__(self) -> Stack:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            _in_parallel(ServiceProcess.stop, self._services)  # the slow part of stopping
        finally:
            self._exit.close()

    def redis(self) -> RedisServer:
        port = free_port()
        server = RedisServer(port=port, directory=self._dir(f"redis-{port}"))
        self._exit.callback(server.cleanup)
        return server.start()

    def sandbox(self, redis: RedisServer, **env: str) -> ServiceProcess:
        service = processes.sandbox_process(redis.url, ADMIN_SECRET, **env)
        service.log_path = self._dir("logs") / f"sandbox-{service.port}.log"
        self._services.append(service)
        return service.start()

    def upstream(self, body: bytes) -> StaticUpstream:
        upstream = StaticUpstream(body, self._dir("upstream"))
        self._exit.callback(upstream.stop)
        return upstream.start()

    def balancer(self, upstreams: list[str]) -> Nginx:
        nginx = Nginx(upstreams, run_dir=self._dir("balancer"))
        self._exit.callback(nginx.cleanup)
        return nginx.start()

    def gunicorn(
        self, module: str, env: dict[str, str], workers: int, port: int | None = None
    ) -> ServiceProcess:
        """Serve ``module`` with the app's gunicorn.conf.py, as production does."""
        return self.gunicorn_unstarted(module, env, workers, port).start()

    def gunicorn_unstarted(
        self,
        module: str,
        env: dict[str, str],
        workers: int,
        port: int | None = None,
        cwd: Path = ROOT,
    ) -> ServiceProcess:
        """Describe a gunicorn service that ``start_all`` or its own ``start()`` will start.

        ``cwd`` is the checkout it serves (its ``gunicorn.conf.py`` and modules).
        """
        port = port or free_port()
        settings = {
            **env,
            "GUNICORN_WORKERS": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": str(self._dir(f"metrics-{port}")),
        }
        options = ("-c", "gunicorn.conf.py", "--no-control-socket")
        service = gunicorn_process(module, settings, port=port, options=options, cwd=cwd)
        service.log_path = self._dir("logs") / f"gunicorn-{port}.log"
        self._services.append(service)
        return service

    @staticmethod
    def start_all(services: list[ServiceProcess]) -> list[ServiceProcess]:
        """Start services side by side; each waits until it answers its health check."""
        return _in_parallel(ServiceProcess.start, services)

    def _dir(self, name: str) -> Path:
        path = self.tmp / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def _in_parallel(
    action: Callable[[ServiceProcess], ServiceProcess | None], services: list[ServiceProcess]
) -> list[ServiceProcess]:
    if not services:
        return []
    with ThreadPoolExecutor(len(services)) as pool:
        list(pool.map(action, services))
    return services


def portal_env(
    redis: RedisServer, sandbox: ServiceProcess, redirect_uri: str, **extra: str
) -> dict[str, str]:
    """Return the app's settings against ``sandbox``; ``extra`` adds or overrides."""
    register_redirect_uri(sandbox, redirect_uri)
    return {
        "AA_AUTH_URL": sandbox.url,
        "AA_CLIENT_ID": "demo-portal",
        "AA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "AA_REDIRECT_URI": redirect_uri,
        "AA_REQUIRE_ISS": "1",
        "REDIS_URL": redis.url,
        "SECRET_KEY": SECRET_KEY,
        "METRICS_TOKEN": METRICS_TOKEN,
        # The scenarios sign many users in from 127.0.0.1; the limit is not what is measured.
        "LOGIN_RATE_LIMIT": "100000 per minute",
        **extra,
    }


def register_redirect_uri(sandbox: ServiceProcess, redirect_uri: str) -> None:
    """Tell the sandbox about the callback and signed-out URLs of an app on a random port."""
    body = {
        "client_id": "demo-portal",
        "redirect_uri": redirect_uri,
        "post_logout_redirect_uri": redirect_uri.rsplit("/", 1)[0] + "/signed-out",
    }
    processes.admin_call(sandbox.url, ADMIN_SECRET, "POST", "/_sandbox/redirect-uris", body)

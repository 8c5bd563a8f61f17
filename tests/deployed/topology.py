"""The portal as docs/deploy.md deploys it: nginx with TLS in front of two gunicorn instances.

nginx is configured from the files in deploy/nginx, filled in the way the nginx image and
scripts/run-cluster.sh fill them in, with a certificate made for the test.
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deploy.selfsigned import make_certificate, spki_pin
from tests.services import (
    PYTHON,
    ROOT,
    RedisServer,
    ServiceProcess,
    free_port,
    sandbox_process,
    stop_process,
)

NGINX = Path("/usr/sbin/nginx")
TEMPLATES = ROOT / "deploy" / "nginx"
PLACEHOLDER = re.compile(r"\$\{(PORTAL_[A-Z_]+)\}")
DEMO_SECRET = "demo+portal/secret=&%?#2026"
SHARED_SECRET_KEY = "deployed-test-secret-key-" + "k" * 32


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill in ``${PORTAL_*}`` as envsubst does; every placeholder must have a value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"{name} is used by the nginx template but not given")
        return values[name]

    return PLACEHOLDER.sub(value, template)


def app_instance(env: Mapping[str, str]) -> ServiceProcess:
    """Describe one app instance under gunicorn with two workers, as in production."""
    port = free_port()
    return ServiceProcess(
        # Several instances run side by side: gunicorn's default control socket would clash.
        args=[
            PYTHON,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--no-control-socket",
            "wsgi:app",
        ],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"},
        port=port,
        health_path="/healthz",
    )


@dataclass
class Nginx:
    """Debian's nginx as the current user, serving HTTPS with a certificate made for it."""

    upstreams: list[str]
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nginx-test-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def certificate(self) -> Path:
        return self.run_dir / "tls" / "cert.pem"

    def spki_pin(self) -> str:
        return spki_pin(self.certificate)

    def settings(self) -> dict[str, str]:
        return {
            "PORTAL_RUN_DIR": str(self.run_dir),
            "PORTAL_UPSTREAM_SERVERS": " ".join(f"server {u};" for u in self.upstreams),
            "PORTAL_RESOLVER": "127.0.0.1",
            "PORTAL_SERVER_NAME": "127.0.0.1",
            "PORTAL_PUBLIC_URL": self.url,
            "PORTAL_HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
            "PORTAL_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "PORTAL_TLS_CERTIFICATE": str(self.certificate),
            "PORTAL_TLS_CERTIFICATE_KEY": str(self.run_dir / "tls" / "key.pem"),
            "PORTAL_ACCESS_LOG": str(self.run_dir / "access.log"),
            "PORTAL_ERROR_LOG": str(self.run_dir / "error.log"),
        }

    def start(self) -> Nginx:
        if not NGINX.is_file():
            raise RuntimeError(f"nginx is not installed at {NGINX}: apt-get install nginx")
        make_certificate(self.run_dir / "tls", ["127.0.0.1", "localhost"])
        values = self.settings()
        for name in ("portal.conf", "nginx.conf"):
            template = (TEMPLATES / f"{name}.template").read_text()
            (self.run_dir / name).write_text(render(template, values))
        args = [str(NGINX), "-p", str(self.run_dir), "-e", str(self.run_dir / "error.log")]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [*args, "-c", str(self.run_dir / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 20) -> None:
        context = ssl.create_default_context(cafile=str(self.certificate))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log('error.log')}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1, context=context):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise TimeoutError("nginx did not serve /healthz over HTTPS")

    def log(self, name: str) -> str:
        path = self.run_dir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        shutil.rmtree(self.run_dir, ignore_errors=True)


@dataclass
class DeployedPortal:
    """The app as users meet it: nginx at ``url`` in front of ``instances``."""

    nginx: Nginx
    instances: list[ServiceProcess]
    sandbox: ServiceProcess
    redis: RedisServer

    @property
    def url(self) -> str:
        return self.nginx.url

    def served_by(self, path: str) -> list[int]:
        """Count, per instance, the access-log lines of requests for ``path``."""
        return [instance.log_text().count(f" {path} HTTP/") for instance in self.instances]

    def logs(self) -> dict[str, str]:
        """Every log of the stack: nginx's, each instance's and the sandbox's."""
        logs = {name: self.nginx.log(name) for name in ("access.log", "error.log")}
        for number, instance in enumerate(self.instances, 1):
            logs[f"app-{number}"] = instance.log_text()
        logs["sandbox"] = self.sandbox.log_text()
        return logs

    def stop(self) -> None:
        self.nginx.cleanup()
        for instance in self.instances:
            instance.stop()
        self.sandbox.stop()
        self.redis.cleanup()


def start_deployed_portal(**app_env: str) -> DeployedPortal:
    """Start Redis, the sandbox, two app instances and nginx, wired as docs/deploy.md says."""
    redis = RedisServer().start()
    nginx_ports = free_port(), free_port()
    public_url = f"https://127.0.0.1:{nginx_ports[0]}"
    sandbox = sandbox_process(
        redis.url,
        SANDBOX_EXTRA_REDIRECT_URIS=public_url + "/callback",
        SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS=public_url + "/signed-out",
    )
    nginx = Nginx([], https_port=nginx_ports[0], http_port=nginx_ports[1])
    portal = DeployedPortal(nginx, [], sandbox, redis)
    try:
        sandbox.start()
        env = {
            "AA_AUTH_URL": sandbox.url,
            "AA_CLIENT_ID": "demo-portal",
            "AA_CLIENT_SECRET": DEMO_SECRET,
            "AA_REDIRECT_URI": public_url + "/callback",
            "AA_REQUIRE_ISS": "1",
            "AA_END_SESSION_URL": sandbox.url + "/oauth/v2/logout",
            "REDIS_URL": redis.url,
            "SECRET_KEY": SHARED_SECRET_KEY,
            "SESSION_COOKIE_SECURE": "1",
            "TRUST_PROXY": "1",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "FLOW_TRACE": "1",
            **app_env,
        }
        for _ in range(2):
            portal.instances.append(app_instance(env))
            portal.instances[-1].start()
        nginx.upstreams = [f"127.0.0.1:{instance.port}" for instance in portal.instances]
        nginx.start()
    except BaseException:
        portal.stop()
        raise
    return portal

"""The deploy's nginx (deploy/nginx/*.template) run on this machine, in front of local upstreams.

nginx is configured from the templates the way the nginx image and scripts/run-cluster.sh fill
them in, with a certificate made for the run. The deployed-topology tests and the benchmarks
start it.
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess  # nosec B404 - starts Debian's nginx with a fixed argument list
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from altitudeangel_sandbox.processes import free_port, stop_process
from deploy.selfsigned import make_certificate, spki_pin

NGINX = Path("/usr/sbin/nginx")
TEMPLATES = Path(__file__).resolve().parent / "nginx"
PLACEHOLDER = re.compile(r"\$\{(PORTAL_[A-Z_]+)\}")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill in ``${PORTAL_*}`` as envsubst does; every placeholder must have a value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"{name} is used by the nginx template but not given")
        return values[name]

    return PLACEHOLDER.sub(value, template)


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

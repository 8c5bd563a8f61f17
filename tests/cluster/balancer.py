"""Two app instances under gunicorn behind nginx, on free ports, for the load-balancing tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import PYTHON, ROOT, ServiceProcess, free_port, stop_process, wait_for_http

NGINX = Path("/usr/sbin/nginx")
TEMPLATE = ROOT / "deploy" / "nginx-cluster.conf.template"


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


def render_config(template: str, run_dir: Path, listen: str, upstreams: list[str]) -> str:
    """Fill in the cluster template's @NAME@ placeholders."""
    app1, app2 = upstreams
    values = {"@RUN_DIR@": str(run_dir), "@LISTEN@": listen, "@APP1@": app1, "@APP2@": app2}
    for name, value in values.items():
        template = template.replace(name, value)
    return template


@dataclass
class Nginx:
    """Debian's nginx as the current user, configured from deploy/nginx-cluster.conf.template."""

    upstreams: list[str]
    port: int = field(default_factory=free_port)
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="nginx-test-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        if not NGINX.is_file():
            raise RuntimeError(f"nginx is not installed at {NGINX}: apt-get install nginx")
        config = self.run_dir / "nginx.conf"
        config.write_text(
            render_config(
                TEMPLATE.read_text(), self.run_dir, f"127.0.0.1:{self.port}", self.upstreams
            )
        )
        args = [str(NGINX), "-p", str(self.run_dir), "-e", str(self.run_dir / "error.log")]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [*args, "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_http(self.url + "/healthz", self.process)
        return self

    def error_log(self) -> str:
        path = self.run_dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def cleanup(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        shutil.rmtree(self.run_dir, ignore_errors=True)

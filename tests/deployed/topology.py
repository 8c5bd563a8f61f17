"""The portal as docs/deploy.md deploys it: nginx with TLS in front of two gunicorn instances.

nginx is the deploy's own (``deploy.local_nginx``), configured from the files in deploy/nginx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy.local_nginx import NGINX as NGINX  # re-exported for the deployed tests
from deploy.local_nginx import PLACEHOLDER as PLACEHOLDER
from deploy.local_nginx import Nginx
from deploy.local_nginx import render as render
from tests.services import (
    PYTHON,
    RedisServer,
    ServiceProcess,
    free_port,
    sandbox_process,
)

DEMO_SECRET = "demo+portal/secret=&%?#2026"
SHARED_SECRET_KEY = "deployed-test-secret-key-" + "k" * 32


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

"""Serve the sandbox with gunicorn: ``python -m altitudeangel_sandbox``."""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Any

import redis
from flask import Flask
from gunicorn.app.base import BaseApplication

from altitudeangel_sandbox import create_app
from altitudeangel_sandbox.oauth.server import allow_plain_http
from altitudeangel_sandbox.settings import SettingsError, load_settings

# Path only: the query string of an authorization request is nobody's business in a log.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def is_loopback_host(host: str) -> bool:
    """Tell whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SandboxServer(BaseApplication):
    """Gunicorn run programmatically: one process, so the metrics live in one place."""

    def __init__(self, app: Flask, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the fixed server options."""
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        """Return the already-built app."""
        return self.application


def main() -> int:
    """Check the settings, build the app and serve it until stopped."""
    allow_plain_http()
    try:
        settings = load_settings(os.environ)
        # Built here, before forking, so a worker restart keeps the session key.
        app = create_app({"SANDBOX_SECRET_KEY": settings.secret_key})
    except SettingsError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    except redis.RedisError as error:
        print(f"sandbox: cannot use Redis at SANDBOX_REDIS_URL: {error}", file=sys.stderr)
        return 2
    if not is_loopback_host(settings.host):
        print(
            f"WARNING: the sandbox listens on {settings.host}, beyond this machine. It has demo "
            "passwords and test-only endpoints; never expose it to a network you do not control.",
            file=sys.stderr,
        )
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": 32,
        "graceful_timeout": 2,
        "timeout": 60,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        # Several sandboxes may run at once (tests); a shared control socket would clash.
        "control_socket_disable": True,
    }
    SandboxServer(app, options).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``flask --app wsgi sweep-logins``: revoke the grants of logins nobody signed out of.

A session that simply idles out in Redis ends the sign-in here, but not its grant at the
authorization server: the refresh token would stay valid there until it expires. Run this
every few minutes (cron, a Kubernetes CronJob) to revoke the grants of logins idle past
SESSION_IDLE_TIMEOUT and delete their tokens.
"""

from __future__ import annotations

import time

import click
from flask import Flask

from portal.services import services
from portal.user import end_login


def sweep_idle_logins(now: float) -> int:
    """Revoke and forget every login idle since before ``now``; return how many."""
    swept = 0
    while batch := services().tokens.idle_logins(now):
        for login_id in batch:
            end_login(login_id, wait=True)
            swept += 1
    return swept


def register_commands(app: Flask) -> None:
    @app.cli.command("sweep-logins")
    def sweep_logins() -> None:
        """Revoke the grants of logins idle past their limit, and delete their tokens."""
        swept = sweep_idle_logins(time.time())
        click.echo(f"swept {swept} idle login{'s' if swept != 1 else ''}")

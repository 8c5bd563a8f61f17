"""Sign-ins are rate-limited per client address, with a friendly 429 (hardening: Redis floods)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import create_app
from flask_altitudeangel import signals
from tests.portal.conftest import app_environment
from tests.services import RedisServer, ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
VIEW_FUNCTIONS = "view_functions"


def limited_app(redis: RedisServer, sandbox: ServiceProcess) -> Flask:
    """The app behind one proxy, as deployed, with the default limit of 20 a minute."""
    env = app_environment(redis, sandbox, TRUST_PROXY="1")
    del env["LOGIN_RATE_LIMIT"]
    return create_app(env)


def test_one_address_gets_a_friendly_429_after_twenty_sign_ins_a_minute(
    sandbox: ServiceProcess,
) -> None:
    own = RedisServer().start()
    try:
        client = limited_app(own, sandbox).test_client()
        flood = {"X-Forwarded-For": "203.0.113.7"}
        answers = [client.get("/login", headers=flood).status_code for _ in range(25)]
        assert answers == [302] * 20 + [429] * 5

        refused = client.get("/login", headers=flood)
        assert refused.headers["Retry-After"] == "60"
        assert b"Too many sign-in attempts" in refused.data and b"Traceback" not in refused.data
        as_json = client.get("/login", headers={**flood, "Accept": "application/json"})
        assert as_json.status_code == 429 and as_json.json == {
            "error": "rate_limited",
            "retry_after": "60",
        }
        other = client.get("/login", headers={"X-Forwarded-For": "198.51.100.1"})
        assert other.status_code == 302  # everyone else carries on
    finally:
        own.cleanup()


def test_the_callback_has_its_own_limit_per_address(sandbox: ServiceProcess) -> None:
    own = RedisServer().start()
    try:
        client = limited_app(own, sandbox).test_client()
        flood = {"X-Forwarded-For": "203.0.113.9"}
        answers = [client.get("/callback?code=x", headers=flood).status_code for _ in range(22)]
        assert answers == [400] * 20 + [429] * 2
        assert client.get("/login", headers=flood).status_code == 302
    finally:
        own.cleanup()


def test_the_limit_hooks_in_through_before_sign_in_and_no_view_is_replaced(
    sandbox: ServiceProcess, redis_server: RedisServer
) -> None:
    app = limited_app(redis_server, sandbox)
    assert signals.before_sign_in.has_receivers_for(app)
    patched = VIEW_FUNCTIONS + "["  # spelt in two parts so this file does not match itself
    patching = [
        str(path.relative_to(ROOT))
        for path in [ROOT / "app.py", *(ROOT / "portal").rglob("*.py")]
        + [*(ROOT / "flask_altitudeangel").rglob("*.py")]
        if patched in path.read_text()
    ]
    assert patching == []

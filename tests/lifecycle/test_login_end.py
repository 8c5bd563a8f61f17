"""Every end of a login revokes its grant, and stored tokens never outlive the absolute limit."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests import peek
from tests.portal.conftest import DEMO_SECRET, sandbox_counter, sign_in_with
from tests.services import RedisServer, ServiceProcess, inject_fault

AppFactory = Callable[..., Flask]
REVOKED_BY = 5.0  # seconds a background revocation may take here


def signed_in(app: Flask, username: str = "alice") -> FlaskClient:
    client = app.test_client()
    assert sign_in_with(client, username).status_code == 303
    return client


def login_id(client: FlaskClient) -> str:
    return str(peek.login_id(client))


def refresh_token(client: FlaskClient) -> str:
    token = peek.stored_token(client)
    return str(token.refresh_token)


def grant_is_alive(sandbox: ServiceProcess, token: str) -> bool:
    """Ask the sandbox whether ``token`` can still be used (this spends it when it can)."""
    answer = requests.post(
        sandbox.url + "/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": "demo-portal",
            "client_secret": DEMO_SECRET,
        },
        timeout=5,
    )
    return answer.status_code == 200


def revoked_soon(sandbox: ServiceProcess, before: float) -> bool:
    deadline = time.monotonic() + REVOKED_BY
    while time.monotonic() < deadline:
        if sandbox_counter(sandbox, "sandbox_revocations_total") > before:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("clock", ["seen", "at"])
def test_a_login_past_its_limit_is_revoked_in_the_background(
    short_app: AppFactory, short_sandbox: ServiceProcess, clock: str
) -> None:
    client = signed_in(short_app())
    token = refresh_token(client)
    with client.session_transaction() as session:
        entry = session["altitudeangel"]
        session["altitudeangel"] = {**entry, clock: entry[clock] - 100_000}
    before = sandbox_counter(short_sandbox, "sandbox_revocations_total")

    started = time.monotonic()
    assert client.get("/profile").status_code == 401
    assert time.monotonic() - started < 1  # nobody waits for the authorization server

    assert revoked_soon(short_sandbox, before)
    assert not grant_is_alive(short_sandbox, token)


@pytest.mark.parametrize("again", [{}, {"add_scope": "talk_tower"}])
def test_a_new_sign_in_or_more_consent_revokes_the_grant_it_replaces(
    short_app: AppFactory, short_sandbox: ServiceProcess, again: dict[str, str]
) -> None:
    client = signed_in(short_app())
    replaced = refresh_token(client)
    before = sandbox_counter(short_sandbox, "sandbox_revocations_total")

    assert sign_in_with(client, query=again).status_code == 303

    assert revoked_soon(short_sandbox, before)
    assert not grant_is_alive(short_sandbox, replaced)
    assert client.get("/profile").status_code == 200


def test_a_token_the_api_keeps_refusing_ends_the_login_and_its_grant(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    client = signed_in(short_app())
    before = sandbox_counter(short_sandbox, "sandbox_revocations_total")
    inject_fault(short_sandbox, "api", "invalid_token", count=2)
    assert client.get("/flight-reports").status_code == 401
    assert revoked_soon(short_sandbox, before)


def test_a_refresh_never_extends_the_life_of_the_stored_tokens(
    short_app: AppFactory, redis_server: RedisServer
) -> None:
    client = signed_in(short_app(SESSION_ABSOLUTE_TIMEOUT="120"))
    key = f"portal:login:{{{login_id(client)}}}:tokens"
    redis = redis_server.client()
    assert 118 <= redis.ttl(key) <= 120
    version = redis.hget(key, "v")
    time.sleep(3)  # the 4-second token is now within its refresh margin
    assert client.get("/flight-reports").status_code == 200
    assert redis.hget(key, "v") != version  # it was refreshed
    assert redis.ttl(key) <= 117


def test_the_sweep_revokes_logins_that_idled_out_and_keeps_live_ones(
    short_app: AppFactory, short_sandbox: ServiceProcess, redis_server: RedisServer
) -> None:
    app = short_app()
    idle, live = signed_in(app, "alice"), signed_in(app, "bob")
    idle_token, live_token = refresh_token(idle), refresh_token(live)
    # The session of `idle` expired in Redis an hour ago, without anyone coming back.
    redis_server.client().zadd(
        "portal:logins-by-idle-deadline", {login_id(idle): time.time() - 3600}
    )

    result = app.test_cli_runner().invoke(args=["sweep-logins"])

    assert result.exit_code == 0 and "swept 1 idle login" in result.output
    assert not grant_is_alive(short_sandbox, idle_token)
    assert peek.stored_token(idle) is None
    assert live.get("/profile").status_code == 200
    assert refresh_token(live) == live_token

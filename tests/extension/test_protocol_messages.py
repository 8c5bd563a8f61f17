"""Each protocol message is announced on one signal, shortened; listening changes nothing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import pytest
import requests
from blinker import Signal
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from altitudeangel_sandbox.pytest_plugin import Sandbox
from flask_altitudeangel import signals
from flask_altitudeangel._state import current_state
from tests.extension.test_contract import REDIRECT_URI, host, sign_in
from tests.services import RedisServer

if TYPE_CHECKING:
    from flask_altitudeangel import ProtocolMessage

MESSAGES = {
    "pushed_authorization_request",
    "pushed_authorization_response",
    "authorization_request",
    "authorization_response",
    "token_request",
    "token_response",
    "api_request",
    "api_response",
    "revocation_request",
    "revocation_response",
    "end_session_request",
}
# Form fields whose values anyone may see; every other value on the wire must never be told.
PUBLIC = {
    "grant_type",
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "code_challenge_method",
    "token_type_hint",
    "client_assertion_type",
}
GRANTS = {"authorization_code", "refresh_token", "client_credentials"}
# Commands that are the test's own, not the app's.
OWN_COMMANDS = {"cmdstat_info", "cmdstat_config|resetstat"}


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    """A redis-server only the app under test talks to, so its command counts are the app's."""
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def settings(altitudeangel_sandbox: Sandbox, own_redis: RedisServer) -> dict[str, str]:
    altitudeangel_sandbox.register_redirect_uri(REDIRECT_URI)
    return {
        "SECRET_KEY": "messages-test-secret-key-" + "m" * 32,
        "AA_AUTH_URL": altitudeangel_sandbox.url,
        "AA_API_URL": altitudeangel_sandbox.url,
        "AA_CLIENT_ID": altitudeangel_sandbox.client_id,
        "AA_CLIENT_SECRET": altitudeangel_sandbox.client_secret,
        "AA_REDIRECT_URI": REDIRECT_URI,
        "AA_REDIS_URL": own_redis.url,
    }


def walking_host(settings: dict[str, str]) -> Flask:
    """A host whose pages make every kind of call: the user's API, the app's, a refresh."""
    app = host(settings)
    aa = app.extensions["altitudeangel"]

    def calls() -> ResponseReturnValue:
        current_state().user_api().get(aa.config.userprofile_url, "user_profile")
        box = "n=51.51&e=-0.12&s=51.50&w=-0.13"
        current_state().client_api().get(f"{aa.config.api_url}/v2/mapdata/geojson?{box}")
        return "called"

    def refresh() -> ResponseReturnValue:
        # The lifecycle's own entry point: a refresh is otherwise a matter of waiting for expiry.
        state = current_state()
        login_id = str(_login_id())
        state.tokens.refresh_after_rejection(login_id, state.tokens.current(login_id))
        return "refreshed"

    def tokens() -> ResponseReturnValue:
        token = current_state().tokens.current(str(_login_id()))
        return jsonify([token.access_token, token.refresh_token])

    app.add_url_rule("/calls", "calls", calls)
    app.add_url_rule("/refresh", "refresh", refresh)
    app.add_url_rule("/tokens", "tokens", tokens)
    return app


def _login_id() -> str | None:
    from flask_altitudeangel import _session

    return _session.login_id_in_session()


def walk(app: Flask) -> list[str]:
    """Sign in, call APIs, refresh, sign out; return the tokens the login held."""
    client = app.test_client()
    assert sign_in(client).status_code == 303
    assert client.get("/calls").status_code == 200
    held = client.get("/tokens").get_json()
    assert client.get("/refresh").status_code == 200
    held += client.get("/tokens").get_json()
    assert client.post("/auth/logout").status_code == 303
    return [str(token) for token in held]


def every_signal() -> list[Signal]:
    return [s for s in vars(signals).values() if isinstance(s, Signal)]


def redis_work(own_redis: RedisServer, app: Flask, listening: bool) -> Counter[str]:
    """Count the Redis commands of one walk, with a receiver on every signal or on none."""
    heard: list[Any] = []
    receivers = [lambda sender, **sent: heard.append(sent)] if listening else []
    for signal in every_signal():
        for receiver in receivers:
            signal.connect(receiver, sender=app)
    redis = own_redis.client()
    redis.config_resetstat()
    try:
        walk(app)
    finally:
        for signal in every_signal():
            for receiver in receivers:
                signal.disconnect(receiver, sender=app)
    assert bool(heard) == listening
    stats = redis.info("commandstats")
    return Counter({n: int(s["calls"]) for n, s in stats.items() if n not in OWN_COMMANDS})


def test_the_core_does_the_same_redis_work_whether_anyone_listens_or_not(
    settings: dict[str, str], own_redis: RedisServer
) -> None:
    walk(walking_host(settings))  # once first: the client token and the lock scripts are made
    unheard = redis_work(own_redis, walking_host(settings), listening=False)
    heard = redis_work(own_redis, walking_host(settings), listening=True)
    assert unheard and heard == unheard


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Collect every value on the wire to the authorization server that is not public.

    A spy on requests, not a mock: every request still goes to the sandbox as sent.
    """
    values: list[str] = []
    real = requests.Session.send

    def send(session: requests.Session, request: requests.PreparedRequest, **kw: Any) -> Any:
        body = request.body
        form = parse_qsl(body.decode() if isinstance(body, bytes) else str(body or ""))
        values.extend(v for k, v in form if k not in PUBLIC and len(v) > 8)
        values.extend(str(request.headers[h]) for h in ("DPoP",) if h in request.headers)
        response = real(session, request, **kw)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if isinstance(answer, dict):
            values.extend(str(answer[k]) for k in ("access_token", "refresh_token") if k in answer)
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    yield values


def test_every_message_is_announced_and_none_holds_a_whole_secret(
    settings: dict[str, str], own_redis: RedisServer, wire: list[str]
) -> None:
    own_redis.client().flushall()  # so that the app fetches its client token, too
    app = walking_host(settings)
    messages: list[ProtocolMessage] = []
    with signals.protocol_message.connected_to(
        lambda _, message, **extra: messages.append(message), app
    ):
        held = walk(app)
    assert {m.name for m in messages} == MESSAGES
    assert {m.operation for m in messages if m.name == "token_request"} == GRANTS
    assert all(m.direction == ("sent" if "request" in m.name else "received") for m in messages)
    exchanged = [m for m in messages if m.name == "token_response" and m.status == "200"]
    assert len(exchanged) == 3 and all(m.seconds is not None for m in exchanged)
    attempts = {m.attempt for m in messages if m.name.startswith("authorization_")}
    assert len(attempts) == 1 and "" not in attempts
    told = json.dumps([asdict(m) for m in messages])
    secrets = [*wire, *held, settings["AA_CLIENT_SECRET"]]
    assert len(secrets) > 10
    for secret in secrets:
        assert secret not in told
        for part in secret.split(".") if secret.count(".") == 2 else ():
            assert part not in told or len(part) < 16  # a JWT's header may be shown as JSON

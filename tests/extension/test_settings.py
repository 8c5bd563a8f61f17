"""The extension's settings: read by one reader, every problem named at once, before any network."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from altitudeangel_sandbox.pytest_plugin import Sandbox
from flask_altitudeangel import AltitudeAngel, ConfigError, SettingsReader, load_config
from flask_altitudeangel._state import current_state

VALID = {
    "AA_CLIENT_ID": "demo-portal",
    "AA_CLIENT_SECRET": "s",
    "AA_REDIRECT_URI": "http://127.0.0.1:5000/callback",
}


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port that accepts connections but never answers: where a wait would hang."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def contacted(listener: socket.socket) -> bool:
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def bind(settings: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    app.config.update(settings)
    AltitudeAngel(app)
    return app


def test_every_missing_setting_is_named_at_once_and_the_server_is_not_asked(
    listener: socket.socket,
) -> None:
    auth_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with pytest.raises(ConfigError) as raised:
        bind({"AA_AUTH_URL": auth_url})
    named = {name for name, _ in raised.value.problems}
    assert {"AA_CLIENT_ID", "AA_CLIENT_SECRET", "AA_REDIRECT_URI", "AA_REDIS_URL"} <= named
    assert "AA_CLIENT_ID must be set" in str(raised.value)
    assert "metadata" not in str(raised.value)
    assert not contacted(listener)


def test_malformed_settings_are_named_together_under_the_operators_names() -> None:
    values = {**VALID, "AA_USE_PKCE": "maybe", "AA_REFRESH_MARGIN": "soon", "AA_SCOPES": "  "}
    with pytest.raises(ConfigError) as raised:
        load_config(values, {"AA_REFRESH_MARGIN": "REFRESH_MARGIN"})
    named = {name for name, _ in raised.value.problems}
    assert named == {"AA_SCOPES", "REFRESH_MARGIN", "AA_USE_PKCE"}
    assert all(name in str(raised.value) for name in named)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6380/0",
        "rediss://:password@redis.example.com:6380/0",
        "unix:///run/redis/redis.sock?db=1",
        "redis+cluster://10.0.0.1:7000",
        "rediss+cluster://10.0.0.1:7000",
        "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/portal",
        "rediss+sentinel://:password@sentinel.example.com:26379/portal",
    ],
)
def test_redis_urls_of_every_kind_the_client_connects_with_are_taken(url: str) -> None:
    assert load_config({**VALID, "AA_REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://:hunter2@redis.example.com:6379/0", "must be a Redis URL"),
        ("redis.example.com:6379", "must be a Redis URL"),
        ("redis://", "names no host"),
        ("rediss://:hunter2@", "names no host"),
        ("unix://", "names no socket path"),
    ],
)
def test_a_redis_url_that_cannot_work_is_named_without_its_password(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=f"AA_REDIS_URL {problem}") as raised:
        load_config({**VALID, "AA_REDIS_URL": url})
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize("timeout", ["soon", "0", "60", [1]])
def test_the_redis_timeout_is_a_number_of_seconds_in_range(timeout: Any) -> None:
    with pytest.raises(ConfigError, match="AA_REDIS_TIMEOUT"):
        bind({**VALID, "AA_REDIS_URL": "redis://127.0.0.1:1/0", "AA_REDIS_TIMEOUT": timeout})


def test_the_redis_timeout_default_and_range_are_documented() -> None:
    assert load_config(VALID).redis_timeout == 1.0
    assert load_config({**VALID, "AA_REDIS_TIMEOUT": "0.05"}).redis_timeout == 0.05
    assert load_config({**VALID, "AA_REDIS_TIMEOUT": 10}).redis_timeout == 10.0


@pytest.mark.parametrize(
    "scopes", [["query_userinfo", "query_mapdata"], ("query_userinfo", "query_mapdata")]
)
def test_scopes_may_be_a_list_of_strings(scopes: Any) -> None:
    assert load_config({**VALID, "AA_SCOPES": scopes}).scopes == "query_userinfo query_mapdata"


@pytest.mark.parametrize(
    "scopes", [5, {"query_userinfo"}, ["query_userinfo", 5], b"query_userinfo"]
)
def test_scopes_of_another_type_are_refused(scopes: Any) -> None:
    with pytest.raises(ConfigError, match="AA_SCOPES"):
        load_config({**VALID, "AA_SCOPES": scopes})


def test_a_host_reads_its_own_settings_with_the_same_reader() -> None:
    read = SettingsReader({"PAGE_SIZE": "many", "TITLE": "Flights"}, {"PAGE_SIZE": "MY_PAGE_SIZE"})
    assert read.number("PAGE_SIZE", 20, 1, 100) == 20  # the default, the problem noted
    assert read.text("TITLE", "") == "Flights"
    with pytest.raises(ConfigError, match="MY_PAGE_SIZE must be a number"):
        read.check()


@pytest.mark.parametrize("secret_key", [None, "", "k" * 31, b"k" * 31, 1234567890])
def test_init_app_refuses_a_missing_or_short_secret_key(secret_key: Any) -> None:
    # Without one, the tokens' encryption key was derived from an empty string.
    settings = {**VALID, "AA_DISCOVERY": "0", "AA_REDIS_URL": "redis://127.0.0.1:1/0"}
    if secret_key is not None:
        settings["SECRET_KEY"] = secret_key
    with pytest.raises(ConfigError, match="SECRET_KEY must be"):
        bind(settings)


def test_a_secret_key_of_32_characters_is_enough() -> None:
    settings = {**VALID, "AA_DISCOVERY": "0", "AA_REDIS_URL": "redis://127.0.0.1:1/0"}
    bind({**settings, "SECRET_KEY": "k" * 32})


SERVER = "https://auth.example.com"


@pytest.mark.parametrize("endpoint", ["http://par.example.com/par", "par", "javascript:alert(1)"])
def test_a_pushed_request_endpoint_from_the_metadata_is_held_to_the_https_rule(
    endpoint: str,
) -> None:
    # It receives the client's credentials, as the token endpoint does.
    metadata = {"issuer": SERVER, "pushed_authorization_request_endpoint": endpoint}
    problem = "the metadata's pushed_authorization_request_endpoint must"
    with pytest.raises(ConfigError, match=problem):
        load_config({**VALID, "AA_AUTH_URL": SERVER}, metadata=metadata)


def test_a_pushed_request_endpoint_from_the_metadata_over_https_is_used() -> None:
    metadata = {"issuer": SERVER, "pushed_authorization_request_endpoint": SERVER + "/par"}
    config = load_config({**VALID, "AA_AUTH_URL": SERVER}, metadata=metadata)
    assert config.par_url == SERVER + "/par"


def test_pushing_forced_on_waits_for_the_metadata_to_name_the_endpoint(
    altitudeangel_sandbox: Sandbox,
) -> None:
    assert load_config({**VALID, "AA_PAR": "1"}).par_url == ""  # the metadata is not known yet
    with pytest.raises(ConfigError, match="AA_PAR is 1"):
        load_config({**VALID, "AA_PAR": "1"}, metadata={})  # known, and it names none
    app = bind(
        {
            **VALID,
            "SECRET_KEY": "settings-test-secret-key-" + "s" * 32,
            "AA_AUTH_URL": altitudeangel_sandbox.url,
            "AA_REDIS_URL": "redis://127.0.0.1:1/0",  # not used: nobody signs in
            "AA_PAR": "1",
        }
    )
    with app.app_context():
        assert current_state().server.ready().par_url.startswith(altitudeangel_sandbox.url + "/")


def test_the_platforms_defaults_name_no_revocation_endpoint() -> None:
    # The platform documents none: a default of its own made every sign-out log a failure.
    assert load_config({**VALID, "AA_AUTH_URL": SERVER}).revoke_url == ""
    metadata = {"issuer": SERVER, "revocation_endpoint": SERVER + "/revoke"}
    given = {**VALID, "AA_AUTH_URL": SERVER, "AA_REVOKE_URL": SERVER + "/revoke"}
    assert load_config(given, metadata=metadata).revoke_url == SERVER + "/revoke"


def test_endpoints_given_without_an_auth_url_need_no_metadata() -> None:
    # The platform's address, the default, was asked for metadata, and refused where unreachable.
    endpoints = {"AA_AUTHORIZE_URL": SERVER + "/authorize", "AA_TOKEN_URL": SERVER + "/token"}
    secret_key = "settings-test-secret-key-" + "s" * 32
    app = bind({**VALID, **endpoints, "SECRET_KEY": secret_key, "AA_REDIS_URL": "redis://h/0"})
    with app.app_context():
        assert current_state().server.problems() == []
        assert current_state().config.token_url == SERVER + "/token"

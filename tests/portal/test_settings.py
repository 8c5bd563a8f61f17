"""Settings: documented defaults, and a clear start-up failure naming every bad variable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from app import create_app
from flask_altitudeangel import Config, load_config
from portal.settings import ENV_NAMES, SettingsError, extension_settings, load_settings

BASE = {"AA_CLIENT_ID": "demo-portal", "AA_CLIENT_SECRET": "s", "SECRET_KEY": "k" * 40}


def extension_config(environ: Mapping[str, Any]) -> Config:
    """Return the sign-in extension's settings as it checks them at start-up, no metadata read."""
    return load_config(extension_settings(environ), ENV_NAMES)


def test_defaults_point_at_the_sandbox() -> None:
    config = extension_config(BASE)
    assert config.authorize_url == "http://127.0.0.1:5001/oauth/v2/authorize"
    assert config.token_url == "http://127.0.0.1:5001/oauth/v2/token"
    assert config.revoke_url == ""  # the sandbox's metadata names it; the platform none
    assert config.userprofile_url == "http://127.0.0.1:5001/userProfile"
    assert config.scopes == "query_userinfo manage_flightreports query_mapdata"
    assert config.use_pkce is True
    assert config.refresh_margin == 60


def test_each_endpoint_can_be_overridden_alone() -> None:
    config = extension_config(
        {
            **BASE,
            "AA_AUTH_URL": "https://auth.example.com",
            "AA_AUTHORIZE_URL": "https://auth.example.com/o/authorize/",
            "AA_REVOKE_URL": "",
        }
    )
    assert config.authorize_url == "https://auth.example.com/o/authorize/"
    assert config.token_url == "https://auth.example.com/oauth/v2/token"
    assert config.revoke_url == ""


def test_openid_scopes_wait_for_the_metadata_to_name_the_providers_keys() -> None:
    # Read before discovery: the metadata's jwks_uri may yet supply AA_JWKS_URI.
    config = extension_config({**BASE, "AA_SCOPES": "openid query_userinfo"})
    assert config.scopes == "openid query_userinfo" and config.jwks_uri == ""


def test_the_app_reads_only_its_own_settings_and_leaves_the_extensions_to_it() -> None:
    # One reader of the AA_* settings: the extension's, when it is bound.
    load_settings({**BASE, "AA_CLIENT_ID": "", "AA_USE_PKCE": "maybe"})
    with pytest.raises(SettingsError, match="AA_CLIENT_ID must be set") as raised:
        create_app({**BASE, "AA_CLIENT_ID": "", "AA_USE_PKCE": "maybe"})
    assert "AA_USE_PKCE must be 1 or 0" in str(raised.value)


def test_every_bad_setting_of_the_app_is_named_at_once() -> None:
    changes = {"TRUST_PROXY": "x", "REDIS_TIMEOUT": "60", "LOGIN_RATE_LIMIT": "lots"}
    with pytest.raises(SettingsError) as raised:
        load_settings({**BASE, **changes})
    assert all(f"{name} must" in str(raised.value) for name in changes)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"AA_CLIENT_ID": ""}, "AA_CLIENT_ID"),
        ({"AA_CLIENT_SECRET": ""}, "AA_CLIENT_SECRET"),
        ({"AA_AUTH_URL": "ftp://auth"}, "AA_AUTH_URL"),
        ({"AA_AUTH_URL": "http://auth.example.com"}, "AA_AUTH_URL"),
        ({"AA_USE_PKCE": "maybe"}, "AA_USE_PKCE"),
        ({"REFRESH_MARGIN": "soon"}, "REFRESH_MARGIN"),
        ({"REDIS_URL": "http://redis"}, "REDIS_URL"),
        ({"TOKEN_ENCRYPTION_KEYS": "not-a-key"}, "TOKEN_ENCRYPTION_KEYS"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"AA_SCOPES": "   "}, "AA_SCOPES"),
    ],
)
def test_a_bad_setting_is_named(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        create_app({**BASE, **changes})


def test_secret_key_is_required_away_from_the_sandbox() -> None:
    environ = {**BASE, "AA_AUTH_URL": "https://auth.altitudeangel.com"}
    del environ["SECRET_KEY"]
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(environ)


def test_only_the_demo_switch_gives_the_published_secret_key_and_the_trace() -> None:
    environ = dict(BASE)
    del environ["SECRET_KEY"]
    demo = load_settings({**environ, "PORTAL_DEMO": "1"})
    assert demo.secret_key.startswith("sandbox-only") and demo.flow_trace


@pytest.mark.parametrize("auth_url", ["http://127.0.0.1:5001", "http://localhost:9000"])
def test_an_authorization_server_on_loopback_is_no_reason_for_a_public_key(auth_url: str) -> None:
    # A production app may reach its authorization server through a local proxy or tunnel.
    environ = {k: v for k, v in BASE.items() if k != "SECRET_KEY"}
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings({**environ, "AA_AUTH_URL": auth_url})
    settings = load_settings({**BASE, "AA_AUTH_URL": auth_url})
    assert not settings.flow_trace


def test_the_app_refuses_to_start_with_a_bad_setting() -> None:
    with pytest.raises(SettingsError, match="AA_CLIENT_ID"):
        create_app({**BASE, "AA_CLIENT_ID": ""})


def test_endpoint_urls_keep_their_trailing_slash_and_bases_lose_it() -> None:
    config = extension_config(
        {
            **BASE,
            "AA_AUTH_URL": "https://auth.example.com/",
            "AA_API_URL": "https://api.example.com/",
            "AA_TOKEN_URL": "https://auth.example.com/o/token/",
        }
    )
    assert config.auth_url == "https://auth.example.com"
    assert config.api_url == "https://api.example.com"
    assert config.token_url == "https://auth.example.com/o/token/"
    assert config.authorize_url == "https://auth.example.com/oauth/v2/authorize"

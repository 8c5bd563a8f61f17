"""Settings: documented defaults, and a clear start-up failure naming the bad variable."""

from __future__ import annotations

import pytest

from portal.settings import SettingsError, load_settings

BASE = {"AA_CLIENT_ID": "demo-portal", "AA_CLIENT_SECRET": "s", "SECRET_KEY": "k" * 40}


def test_defaults_point_at_the_sandbox() -> None:
    settings = load_settings(BASE)
    assert settings.aa.authorize_url == "http://127.0.0.1:5001/oauth/v2/authorize"
    assert settings.aa.token_url == "http://127.0.0.1:5001/oauth/v2/token"
    assert settings.aa.revoke_url == ""  # the sandbox's metadata names it; the platform none
    assert settings.aa.userprofile_url == "http://127.0.0.1:5001/userProfile"
    assert settings.aa.scopes == "query_userinfo manage_flightreports query_mapdata"
    assert settings.aa.use_pkce is True
    assert settings.aa.refresh_margin == 60


def test_each_endpoint_can_be_overridden_alone() -> None:
    settings = load_settings(
        {
            **BASE,
            "AA_AUTH_URL": "https://auth.example.com",
            "AA_AUTHORIZE_URL": "https://auth.example.com/o/authorize/",
            "AA_REVOKE_URL": "",
        }
    )
    assert settings.aa.authorize_url == "https://auth.example.com/o/authorize/"
    assert settings.aa.token_url == "https://auth.example.com/oauth/v2/token"
    assert settings.aa.revoke_url == ""


def test_openid_scopes_wait_for_the_metadata_to_name_the_providers_keys() -> None:
    # Read before discovery: the metadata's jwks_uri may yet supply AA_JWKS_URI.
    settings = load_settings({**BASE, "AA_SCOPES": "openid query_userinfo"})
    assert settings.aa.scopes == "openid query_userinfo" and settings.aa.jwks_uri == ""


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
        load_settings({**BASE, **changes})


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
    from app import create_app

    with pytest.raises(SettingsError, match="AA_CLIENT_ID"):
        create_app({**BASE, "AA_CLIENT_ID": ""})


def test_endpoint_urls_keep_their_trailing_slash_and_bases_lose_it() -> None:
    settings = load_settings(
        {
            **BASE,
            "AA_AUTH_URL": "https://auth.example.com/",
            "AA_API_URL": "https://api.example.com/",
            "AA_TOKEN_URL": "https://auth.example.com/o/token/",
        }
    )
    assert settings.aa.auth_url == "https://auth.example.com"
    assert settings.aa.api_url == "https://api.example.com"
    assert settings.aa.token_url == "https://auth.example.com/o/token/"
    assert settings.aa.authorize_url == "https://auth.example.com/oauth/v2/authorize"

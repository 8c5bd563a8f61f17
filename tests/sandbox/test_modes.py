"""Other configurations: generic mode, opaque tokens, no ``iss``, settings checked at start-up."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from tests.sandbox.conftest import ALL_SCOPES, EXTRA_REDIRECT, PLAIN_ISSUER, fresh_login
from tests.sandbox.flow import SandboxBrowser, callback_of
from tests.sandbox.oauth import api, exchange_code, refresh, revoke, token_request
from tests.services import PYTHON, ROOT, ServiceProcess

SIGNED_OUT = "http://127.0.0.1:5000/signed-out"


def generic_login(url: str, scope: str = ALL_SCOPES) -> dict[str, str]:
    callback = SandboxBrowser(url).authorize(path="/o/authorize/", scope=scope)
    assert "iss" not in callback.params
    response = exchange_code(url, callback.code, path="/o/token/")
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_generic_metadata_and_paths(generic_sandbox: ServiceProcess) -> None:
    url = generic_sandbox.url
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert metadata["authorization_endpoint"] == url + "/o/authorize/"
    assert metadata["token_endpoint"] == url + "/o/token/"
    assert metadata["revocation_endpoint"] == url + "/o/revoke/"
    assert metadata["userinfo_endpoint"] == url + "/o/userinfo/"
    assert metadata["end_session_endpoint"] == url + "/o/logout/"
    assert metadata["authorization_response_iss_parameter_supported"] is False
    assert metadata["jwks_uri"] == url + "/.well-known/jwks.json"
    for path in ("/oauth/v2/authorize", "/oauth/v2/logout", "/userProfile"):
        assert requests.get(url + path, timeout=5).status_code == 404
    assert requests.post(url + "/oauth/v2/token", timeout=5).status_code == 404


def test_opaque_tokens_work_on_the_api(opaque_sandbox: ServiceProcess) -> None:
    url = opaque_sandbox.url
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    # The key is published all the same: it verifies ID tokens (tests/sandbox/test_openid.py).
    assert metadata["jwks_uri"] == url + "/.well-known/jwks.json"
    tokens = generic_login(url)
    assert "." not in tokens["access_token"]
    profile = api(url, "GET", "/o/userinfo/", tokens["access_token"])
    assert profile.status_code == 200
    assert profile.json()["aa_id"] == "aa-user-5f1c2a9e-alice"
    assert api(url, "GET", "/flightReport", tokens["access_token"]).status_code == 200

    renewed = refresh(url, tokens["refresh_token"], path="/o/token/")
    assert renewed.status_code == 200, renewed.text
    reuse = refresh(url, tokens["refresh_token"], path="/o/token/")
    assert reuse.json()["error"] == "invalid_grant"
    assert api(url, "GET", "/o/userinfo/", renewed.json()["access_token"]).status_code == 401


def test_generic_end_session_path(generic_sandbox: ServiceProcess) -> None:
    browser = SandboxBrowser(generic_sandbox.url)
    browser.authorize(path="/o/authorize/", scope="query_userinfo")
    page = browser.get(
        "/o/logout/", client_id="demo-portal", post_logout_redirect_uri=SIGNED_OUT, state="g"
    )
    response = browser.submit(page, button="sign_out")
    assert response.headers["Location"] == SIGNED_OUT + "?state=g"


def test_generic_insufficient_scope_is_403(generic_sandbox: ServiceProcess) -> None:
    url = generic_sandbox.url
    tokens = generic_login(url, scope="query_mapdata")
    response = api(url, "GET", "/o/userinfo/", tokens["access_token"])
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="query_userinfo"'
    )


def test_revocation_of_an_opaque_access_token(opaque_sandbox: ServiceProcess) -> None:
    url = opaque_sandbox.url
    tokens = generic_login(url)
    assert revoke(url, tokens["access_token"], path="/o/revoke/").status_code == 200
    assert api(url, "GET", "/o/userinfo/", tokens["access_token"]).status_code == 401
    client = token_request(
        url, {"grant_type": "client_credentials", "scope": "query_mapdata"}, path="/o/token/"
    ).json()
    assert "." not in client["access_token"]


def test_no_iss_when_switched_off(plain_sandbox: ServiceProcess) -> None:
    url = plain_sandbox.url
    browser = SandboxBrowser(url)
    callback = browser.authorize(scope="query_userinfo")
    assert "iss" not in callback.params
    assert callback.params["state"] == "state-123"
    error = callback_of(browser.start(scope="manage_users"))
    assert error.params["error"] == "invalid_scope"
    assert "iss" not in error.params
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert metadata["authorization_response_iss_parameter_supported"] is False
    assert fresh_login(browser).access_token


def test_issuer_and_extra_redirect_uris_from_settings(
    plain_sandbox: ServiceProcess, base_url: str
) -> None:
    url = plain_sandbox.url
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert metadata["issuer"] == PLAIN_ISSUER
    assert metadata["token_endpoint"] == PLAIN_ISSUER + "/oauth/v2/token"
    callback = SandboxBrowser(url).authorize(scope="query_userinfo", redirect_uri=EXTRA_REDIRECT)
    assert callback.location.startswith(EXTRA_REDIRECT + "?code=")
    response = exchange_code(url, callback.code, redirect_uri=EXTRA_REDIRECT)
    token = response.json()["access_token"]
    assert api(url, "GET", "/userProfile", token).status_code == 200
    # The main sandbox knows neither the extra redirect URI nor that issuer's tokens.
    assert SandboxBrowser(base_url).start(redirect_uri=EXTRA_REDIRECT).status_code == 400
    assert api(base_url, "GET", "/userProfile", token).status_code == 401


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SANDBOX_MODE": "openid"}, "SANDBOX_MODE"),
        ({"SANDBOX_ACCESS_TOKEN_FORMAT": "paseto"}, "SANDBOX_ACCESS_TOKEN_FORMAT"),
        (
            {"SANDBOX_MODE": "aa-public", "SANDBOX_ACCESS_TOKEN_FORMAT": "opaque"},
            "SANDBOX_ACCESS_TOKEN_FORMAT",
        ),
        ({"SANDBOX_CODE_TTL": "600"}, "SANDBOX_CODE_TTL"),
        ({"SANDBOX_ACCESS_TOKEN_TTL": "soon"}, "SANDBOX_ACCESS_TOKEN_TTL"),
        ({"SANDBOX_REGISTRY": "/nonexistent.json"}, "SANDBOX_REGISTRY"),
        ({"SANDBOX_EXTRA_REDIRECT_URIS": "ftp://x/cb"}, "SANDBOX_EXTRA_REDIRECT_URIS"),
        (
            {"SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS": "http://x/out#f"},
            "SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS",
        ),
        (
            {"SANDBOX_EXTRA_BACKCHANNEL_LOGOUT_URIS": "mailto:rp@example.com"},
            "SANDBOX_EXTRA_BACKCHANNEL_LOGOUT_URIS",
        ),
        ({"SANDBOX_REDIS_URL": "redis://127.0.0.1:1/0"}, "SANDBOX_REDIS_URL"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(env: dict[str, str], named: str) -> None:
    result = subprocess.run(  # noqa: S603 - fixed argument list
        [PYTHON, "-m", "altitudeangel_sandbox"],
        cwd=ROOT,
        env={**os.environ, "SANDBOX_PORT": "1", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr

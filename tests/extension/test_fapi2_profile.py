"""AA_PROFILE=fapi2 against the sandbox: what the profile needs, and nothing less is used.

The sandbox plays a FAPI 2.0 authorization server with PAR and DPoP required of every client
(SANDBOX_REQUIRE_PAR=1, SANDBOX_DPOP=required); its default settings, which only offer them,
are a server the profile refuses.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
import urllib3
from flask import Flask

from app import create_app
from flask_altitudeangel import AuthServerUnavailable
from portal.settings import SettingsError
from tests import peek
from tests.extension.conftest import FAPI_SANDBOX
from tests.extension.unbinding_proxy import UnbindingProxy
from tests.oauth_driver import SandboxUser
from tests.portal.conftest import REDIRECT_URI, USERS, app_environment, portal_for
from tests.portal.test_client_features import register_key_client
from tests.portal.test_flow import jwt_parts
from tests.portal.test_sign_out import csrf_token
from tests.services import RedisServer, ServiceProcess, sandbox_process


def fapi_environment(
    redis: RedisServer, sandbox: ServiceProcess, directory: Path, key: Any = None, **extra: str
) -> dict[str, str]:
    """The portal's settings with the profile on, as a client registered by its key alone."""
    client_id, key_file = register_key_client(sandbox, directory, key)
    env = app_environment(
        redis, sandbox, AA_PROFILE="fapi2", AA_CLIENT_ID=client_id, AA_CLIENT_KEY_FILE=str(key_file)
    )
    for left_to_the_profile in ("AA_CLIENT_SECRET", "AA_PAR", "AA_REQUIRE_ISS"):
        del env[left_to_the_profile]
    return {**env, **extra}


def form_of(request: requests.PreparedRequest) -> dict[str, str]:
    body = request.body
    return dict(parse_qsl(body.decode() if isinstance(body, bytes) else str(body or "")))


def callback_of(client: Any, username: str = "alice") -> str:
    """Start a sign-in and pass the sandbox's pages; return the callback's path and query."""
    started = client.get("/login")
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    person = SandboxUser(username, USERS[username])
    parts = urlsplit(person.authorize(started.headers["Location"], REDIRECT_URI))
    return f"{parts.path}?{parts.query}"


def test_a_sign_in_uses_par_s256_dpop_and_assertions_for_the_issuer(
    redis_server: RedisServer,
    fapi_sandbox: ServiceProcess,
    tmp_path: Path,
    sent: list[requests.PreparedRequest],
) -> None:
    app = portal_for(fapi_environment(redis_server, fapi_sandbox, tmp_path))
    config = peek.config(app)
    assert config.par_url and config.dpop and config.use_pkce and config.require_iss
    assert config.client_auth == "private_key_jwt" and not config.client_secret
    client = app.test_client()

    started = client.get("/login")
    assert set(parse_qs(urlsplit(started.headers["Location"]).query)) == {
        "client_id",
        "request_uri",
    }
    person = SandboxUser("alice", USERS["alice"])
    callback = urlsplit(person.authorize(started.headers["Location"], REDIRECT_URI))
    assert client.get(f"{callback.path}?{callback.query}").status_code == 303
    assert client.get("/profile").status_code == 200  # the sandbox takes DPoP only
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "DPoP" and token.dpop_jwk
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 303

    back_channel = (config.par_url, config.token_url, config.revoke_url)
    to_server = [r for r in sent if str(r.url) in back_channel]
    assert [str(r.url) for r in to_server] == list(back_channel)  # pushed, exchanged, revoked
    pushed = form_of(to_server[0])
    assert pushed["code_challenge_method"] == "S256" and pushed["code_challenge"]
    for request in to_server:
        form = form_of(request)
        assert "client_secret" not in form
        claims = jwt_parts(form["client_assertion"])[1]
        assert claims["aud"] == config.metadata["issuer"] == config.issuer
        assert claims["exp"] - claims["iat"] <= 60
    assert to_server[1].headers.get("DPoP")  # the code exchange, with its proof


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("AA_PAR", "0"),
        ("AA_DPOP", "0"),
        ("AA_USE_PKCE", "0"),
        ("AA_REQUIRE_ISS", "0"),
        ("AA_DISCOVERY", "0"),
        ("AA_CLIENT_AUTH", "client_secret_post"),
        ("AA_CLIENT_SECRET", "a secret beside the key"),
        ("AA_CLIENT_KEY_FILE", ""),
        ("AA_ALLOW_HTTP", "1"),
    ],
)
def test_a_setting_that_weakens_the_profile_stops_the_app(
    redis_server: RedisServer,
    fapi_sandbox: ServiceProcess,
    tmp_path: Path,
    setting: str,
    value: str,
) -> None:
    env = fapi_environment(redis_server, fapi_sandbox, tmp_path, **{setting: value})
    with pytest.raises(SettingsError, match=f"^{setting} must"):
        create_app(env)


def refused_once_read(env: dict[str, str]) -> str:
    """Start the app (the metadata is read when first needed); return why it refuses the
    server, or its settings against the server, once it has read the metadata."""
    app = create_app(env)
    with pytest.raises(AuthServerUnavailable) as refused:
        peek.config(app)  # what a sign-in asks for first
    assert app.test_client().get("/login").status_code == 503  # and no sign-in goes there
    return str(refused.value.description)


def test_an_endpoint_or_issuer_other_than_the_metadata_is_refused(
    redis_server: RedisServer, fapi_sandbox: ServiceProcess, tmp_path: Path
) -> None:
    elsewhere = "https://auth.example.com/oauth/v2/token"
    for setting, value in (("AA_TOKEN_URL", elsewhere), ("AA_ISSUER", "https://example.com")):
        env = fapi_environment(redis_server, fapi_sandbox, tmp_path, **{setting: value})
        assert refused_once_read(env).startswith(f"{setting} must be the")


def test_a_server_that_only_offers_par_is_refused(
    redis_server: RedisServer, sandbox: ServiceProcess, tmp_path: Path
) -> None:
    env = fapi_environment(redis_server, sandbox, tmp_path)
    assert refused_once_read(env).endswith("require_pushed_authorization_requests: true")


def refusal_by(redis_server: RedisServer, tmp_path: Path, **sandbox_env: str) -> str:
    """Start a sandbox with ``sandbox_env``; return why the portal with the profile refuses it."""
    server = sandbox_process(redis_server.url, **sandbox_env).start()
    try:
        message = refused_once_read(fapi_environment(redis_server, server, tmp_path))
    finally:
        server.stop()
    assert message.startswith(f"AA_PROFILE is fapi2, but the server at {server.url} does not offer")
    return message


def test_a_server_without_dpop_or_iss_is_refused_naming_each(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    message = refusal_by(
        redis_server, tmp_path, SANDBOX_DPOP="0", SANDBOX_SEND_ISS="0", SANDBOX_REQUIRE_PAR="1"
    )
    assert message.endswith(
        "dpop_signing_alg_values_supported with ES256; "
        "authorization_response_iss_parameter_supported: true"
    )


def test_a_server_without_metadata_is_refused(redis_server: RedisServer, tmp_path: Path) -> None:
    """The platform as documented publishes none (the sandbox's aa-public mode plays it)."""
    message = refusal_by(redis_server, tmp_path, SANDBOX_MODE="aa-public")
    assert "a metadata document (RFC 8414 or OpenID Connect discovery)" in message


def test_a_callback_without_iss_is_refused(
    redis_server: RedisServer, fapi_sandbox: ServiceProcess, tmp_path: Path
) -> None:
    app = portal_for(fapi_environment(redis_server, fapi_sandbox, tmp_path))
    client = app.test_client()
    path, query = callback_of(client).split("?", 1)
    params = dict(parse_qsl(query))
    assert "iss" in params  # the sandbox sent it; an attacker's mix-up would not
    del params["iss"]
    refused = client.get(path, query_string=params)
    assert refused.status_code == 400
    assert peek.login_id(client) is None


def test_a_token_response_that_is_not_dpop_bound_is_refused(
    redis_server: RedisServer, tmp_path: Path, sent: list[requests.PreparedRequest]
) -> None:
    proxy = UnbindingProxy()
    behind = sandbox_process(redis_server.url, SANDBOX_ISSUER=proxy.url, **FAPI_SANDBOX).start()
    try:
        with proxy.running(behind.url):
            env = fapi_environment(redis_server, behind, tmp_path, AA_AUTH_URL=proxy.url)
            env["AA_API_URL"] = proxy.url
            client = portal_for(env).test_client()
            refused = client.get(callback_of(client))
            assert refused.status_code == 400
            assert proxy.rewritten == 1  # the code exchange, answered as Bearer, and no retry
            assert peek.login_id(client) is None
            revoked = [r for r in sent if str(r.url) == proxy.url + "/oauth/v2/revoke"]
            assert len(revoked) == 1  # the grant that answer carried is not left live
    finally:
        behind.stop()


def test_a_stored_token_that_is_not_bound_is_never_sent_as_bearer(
    redis_server: RedisServer,
    fapi_sandbox: ServiceProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A login kept from before the profile was on holds a Bearer token: it is not used."""
    app: Flask = portal_for(fapi_environment(redis_server, fapi_sandbox, tmp_path))
    client = app.test_client()
    assert client.get(callback_of(client)).status_code == 303
    login_id = peek.login_id(client)
    token = peek.stored_token(client)
    assert login_id and token is not None
    unbound = replace(token, token_type="Bearer", dpop_jwk=None)  # noqa: S106 - a type
    store = peek.token_store(app)
    assert store.compare_and_set(login_id, token.version, unbound) is not None

    authorizations: list[str] = []
    real = urllib3.PoolManager.request

    def request(manager: urllib3.PoolManager, method: str, url: str, **kw: Any) -> Any:
        authorizations.append(str((kw.get("headers") or {}).get("Authorization", "")))
        return real(manager, method, url, **kw)

    monkeypatch.setattr(urllib3.PoolManager, "request", request)  # a spy: every call goes on
    answer = client.get("/profile")
    assert answer.status_code in (303, 401)  # asked to sign in again
    assert not any(header.startswith("Bearer") for header in authorizations)

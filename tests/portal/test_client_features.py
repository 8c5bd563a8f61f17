"""DPoP, pushed requests and private_key_jwt are each chosen from the server's metadata, and
each setting wins over it: ``AA_DPOP``, ``AA_PAR`` with ``AA_PAR_URL``, ``AA_CLIENT_AUTH`` with
``AA_CLIENT_KEY_FILE`` (docs/extension.md). Here the sandbox supports all three, and the app
is either told not to read its metadata or told the opposite of what the metadata offers."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from joserfc.jwk import ECKey

from flask_altitudeangel.records import peek_claims
from portal.settings import SettingsError
from portal.trace.store import Step
from tests import peek
from tests.portal.conftest import (
    REDIRECT_URI,
    app_environment,
    portal_for,
    sandbox_counter,
    sign_in_with,
)
from tests.services import RedisServer, ServiceProcess, admin_call

AUTHORIZATION_PARAMETERS = {
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
}


def blind_environment(redis: RedisServer, sandbox: ServiceProcess, **extra: str) -> dict[str, str]:
    """The app's settings against the sandbox, its metadata left unread (AA_DISCOVERY=0)."""
    return app_environment(redis, sandbox, **{"AA_DISCOVERY": "0", "AA_PAR": "auto", **extra})


def register_key_client(
    sandbox: ServiceProcess, directory: Path, key: Any = None
) -> tuple[str, Path]:
    """Register a client the sandbox knows by its public key alone (``key``, by default a new
    P-256 one); return its id and the key's PEM file."""
    key = key or ECKey.generate_key("P-256", private=True)
    key_file = directory / "client-key.pem"
    key_file.write_bytes(key.as_pem(private=True))
    client_id = "key-client-" + secrets.token_hex(4)
    registration = {
        "client_id": client_id,
        "name": "A client with a key and no secret",
        "scopes": ["query_userinfo", "manage_flightreports", "query_mapdata"],
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.as_dict(private=False)]},
    }
    admin_call(sandbox, "POST", "/_sandbox/clients", registration)
    return client_id, key_file


def pushed_requests(sandbox: ServiceProcess) -> float:
    return sandbox_counter(sandbox, "sandbox_pushed_authorization_requests_total")


def authorize_parameters(client: FlaskClient) -> set[str]:
    """Start a sign-in; return the names of the parameters the browser is sent off with."""
    started = client.get("/login")
    assert started.status_code == 302
    return set(parse_qs(urlsplit(started.headers["Location"]).query))


def trace(client: FlaskClient) -> list[Step]:
    """Return the steps the flow trace recorded for the client's login."""
    login_id = peek.login_id(client)
    assert login_id is not None
    steps: list[Step] = client.application.extensions["portal_trace"].steps(login_id)
    return steps


def shown(steps: list[Step], title: str) -> dict[str, str]:
    """Return what the last step called ``title`` shows."""
    return dict([step for step in steps if step.title == title][-1].details)


def claims_of(access_token: str) -> dict[str, Any]:
    return peek_claims(access_token) or {}


def test_dpop_forced_on_binds_the_tokens_where_no_metadata_offers_it(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    assert not peek.config(portal_for(blind_environment(redis_server, sandbox))).dpop
    app = portal_for(blind_environment(redis_server, sandbox, AA_DPOP="1"))
    assert peek.config(app).metadata == {} and peek.config(app).dpop
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "DPoP" and token.dpop_jwk
    jkt = claims_of(token.access_token)["cnf"]["jkt"]
    assert jkt == ECKey.import_key(token.dpop_jwk).thumbprint()
    # The sandbox takes a bound token only as DPoP, with a proof signed by its key.
    assert client.get("/flight-reports").status_code == 200
    assert '"ath"' in shown(trace(client), "List reports")["DPoP proof claims"]


def test_pushing_forced_on_sends_the_request_to_the_endpoint_its_setting_names(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    par_url = sandbox.url + "/oauth/v2/par"
    assert not peek.config(portal_for(blind_environment(redis_server, sandbox))).par_url
    app = portal_for(blind_environment(redis_server, sandbox, AA_PAR="1", AA_PAR_URL=par_url))
    assert peek.config(app).metadata == {} and peek.config(app).par_url == par_url
    client = app.test_client()
    before = pushed_requests(sandbox)
    assert authorize_parameters(client) == {"client_id", "request_uri"}
    assert pushed_requests(sandbox) == before + 1
    assert sign_in_with(client).status_code == 303
    assert pushed_requests(sandbox) == before + 2
    assert "Pushed authorization request" in [step.title for step in trace(client)]


def test_pushing_forced_on_with_no_endpoint_known_stops_the_app(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    with pytest.raises(SettingsError, match="AA_PAR"):
        portal_for(blind_environment(redis_server, sandbox, AA_PAR="1"))


def test_private_key_jwt_forced_on_signs_in_where_no_metadata_lists_it(
    redis_server: RedisServer, sandbox: ServiceProcess, tmp_path: Path
) -> None:
    client_id, key_file = register_key_client(sandbox, tmp_path)
    env = blind_environment(
        redis_server, sandbox, AA_CLIENT_ID=client_id, AA_CLIENT_KEY_FILE=str(key_file)
    )
    del env["AA_CLIENT_SECRET"]
    # Without the metadata's word a key is not enough: the app wants a secret.
    with pytest.raises(SettingsError, match="AA_CLIENT_SECRET"):
        portal_for(env)
    app = portal_for({**env, "AA_CLIENT_AUTH": "private_key_jwt"})
    assert peek.config(app).metadata == {} and peek.config(app).client_auth == "private_key_jwt"
    client = app.test_client()
    # The sandbox knows this client by its key alone: only a signed assertion gets it tokens.
    assert sign_in_with(client).status_code == 303
    assert client.get("/profile").status_code == 200
    token_request = shown(trace(client), "Token request")
    assert token_request["client authentication"].startswith("private_key_jwt")
    assert f'"iss": "{client_id}"' in token_request["client assertion claims"]
    assert "client_secret" not in token_request


def test_settings_of_0_win_over_metadata_offering_dpop_pushing_and_private_key_jwt(
    redis_server: RedisServer, sandbox: ServiceProcess, tmp_path: Path
) -> None:
    key = ECKey.generate_key("P-256", private=True)
    key_file = tmp_path / "unregistered-key.pem"
    key_file.write_bytes(key.as_pem(private=True))
    offered = app_environment(
        redis_server, sandbox, AA_PAR="auto", AA_CLIENT_KEY_FILE=str(key_file)
    )
    chosen = peek.config(portal_for(offered))
    assert chosen.dpop and chosen.par_url and chosen.client_auth == "private_key_jwt"

    settings = {"AA_DPOP": "0", "AA_PAR": "0", "AA_CLIENT_AUTH": "client_secret_post"}
    app = portal_for({**offered, **settings})
    config = peek.config(app)
    assert config.metadata and not config.dpop and not config.par_url
    assert config.client_auth == "client_secret_post"
    client = app.test_client()
    before = pushed_requests(sandbox)
    assert authorize_parameters(client) == AUTHORIZATION_PARAMETERS
    assert sign_in_with(client).status_code == 303
    assert pushed_requests(sandbox) == before
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "Bearer" and token.dpop_jwk is None
    assert "cnf" not in claims_of(token.access_token)
    assert client.get("/flight-reports").status_code == 200
    steps = trace(client)
    token_request = shown(steps, "Token request")
    assert token_request["client authentication"].startswith("client_secret_post")
    assert "client assertion header" not in token_request
    for step in steps:
        assert "DPoP proof header" not in dict(step.details), step.title

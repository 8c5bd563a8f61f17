"""Beyond bearer tokens, against the sandbox: DPoP (RFC 9449), pushed authorization requests
(RFC 9126) and private_key_jwt (RFC 7523), each chosen from the server's metadata."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from joserfc import jwt
from joserfc.jwk import ECKey

from app import create_app
from flask_altitudeangel.records import peek_claims
from tests import peek
from tests.portal.conftest import REDIRECT_URI, app_environment, portal_for, sign_in_with
from tests.services import RedisServer, ServiceProcess, admin_call, sandbox_process


def portal(redis: RedisServer, sandbox: ServiceProcess, **extra: str) -> Flask:
    return portal_for(app_environment(redis, sandbox, **extra))


def test_tokens_are_bound_to_a_key_the_browser_never_sees(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    app = portal(redis_server, sandbox)
    assert peek.config(app).dpop  # the sandbox's metadata offers ES256
    client = app.test_client()
    callback = sign_in_with(client)
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "DPoP" and token.dpop_jwk
    claims = peek_claims(token.access_token) or {}
    assert claims["cnf"]["jkt"] == ECKey.import_key(token.dpop_jwk).thumbprint()
    raw = redis_server.client().hget(f"portal:login:{{{peek.login_id(client)}}}:tokens", "blob")
    assert token.dpop_jwk["d"].encode() not in raw  # encrypted at rest, like the tokens
    pages = [callback, *(client.get(p) for p in ("/flight-reports", "/profile", "/session"))]
    for page in pages:
        assert page.status_code in (200, 303)
        assert token.dpop_jwk["d"] not in page.get_data(as_text=True) + str(page.headers)
    assert b"DPoP" in client.get("/session").data


def test_a_token_copied_out_of_redis_is_refused_without_its_key(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    client = portal(redis_server, sandbox).test_client()
    sign_in_with(client)
    token = peek.stored_token(client)
    assert token is not None
    url = sandbox.url + "/userProfile"
    as_bearer = requests.get(url, headers={"Authorization": f"Bearer {token.access_token}"})
    no_proof = requests.get(url, headers={"Authorization": f"DPoP {token.access_token}"})
    thief = ECKey.generate_key("P-256", private=True)
    claims = {
        "jti": secrets.token_urlsafe(8),
        "htm": "GET",
        "htu": url,
        "iat": int(time.time()),
    }
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": thief.as_dict(private=False)}
    other_key = requests.get(
        url,
        headers={
            "Authorization": f"DPoP {token.access_token}",
            "DPoP": jwt.encode(header, claims, thief),
        },
    )
    for refused in (as_bearer, no_proof, other_key):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("DPoP")
    assert client.get("/profile").status_code == 200  # the app, holding the key, gets in


@pytest.fixture(scope="module")
def strict_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    """DPoP required of everyone, with server nonces, and every request pushed first."""
    env = {"SANDBOX_DPOP": "required", "SANDBOX_DPOP_NONCE": "1", "SANDBOX_REQUIRE_PAR": "1"}
    service = sandbox_process(redis_server.url, **env).start()
    yield service
    service.stop()


def test_nonces_required_dpop_and_required_pushing_are_all_followed(
    redis_server: RedisServer, strict_sandbox: ServiceProcess
) -> None:
    app = portal(redis_server, strict_sandbox, AA_PAR="auto")
    client = app.test_client()
    started = client.get("/login")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert set(query) == {"client_id", "request_uri"}  # nothing else for the browser to see
    assert sign_in_with(client).status_code == 303
    for path in ("/flight-reports", "/profile"):
        assert client.get(path).status_code == 200, path
    report = client.get("/flight-reports").get_data(as_text=True).split('href="/flight-reports/')
    assert client.get("/flight-reports/" + report[2].split('"')[0]).status_code == 200


def test_settings_can_turn_dpop_and_pushing_off(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    app = portal(redis_server, sandbox, AA_DPOP="0", AA_PAR="0")
    config = peek.config(app)
    assert not config.dpop and not config.par_url
    client = app.test_client()
    sign_in_with(client)
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "Bearer" and token.dpop_jwk is None
    assert "redirect_uri" in parse_qs(urlsplit(client.get("/login").headers["Location"]).query)


@pytest.fixture
def key_client(sandbox: ServiceProcess, tmp_path: Path) -> tuple[str, Path, Path]:
    """A client registered by its public key only: its id, and its key as PEM and as JWK."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "client-key.pem"
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key = ECKey.import_key(pem.read_bytes())
    jwk_file = tmp_path / "client-key.jwk"
    jwk_file.write_text(json.dumps(key.as_dict(private=True)))
    client_id = "key-client-" + secrets.token_hex(4)
    admin_call(
        sandbox,
        "POST",
        "/_sandbox/clients",
        {
            "client_id": client_id,
            "name": "A client with a key",
            "scopes": ["query_userinfo", "manage_flightreports", "query_mapdata"],
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [key.as_dict(private=False)]},
        },
    )
    return client_id, pem, jwk_file


@pytest.mark.parametrize("form", ["pem", "jwk"])
def test_private_key_jwt_signs_in_with_no_secret_at_all(
    redis_server: RedisServer,
    sandbox: ServiceProcess,
    key_client: tuple[str, Path, Path],
    form: str,
) -> None:
    client_id, pem, jwk_file = key_client
    env = app_environment(redis_server, sandbox, AA_CLIENT_ID=client_id, AA_PAR="auto")
    del env["AA_CLIENT_SECRET"]
    env["AA_CLIENT_KEY_FILE"] = str(pem if form == "pem" else jwk_file)
    app = create_app(env)
    assert peek.config(app).client_auth == "private_key_jwt"
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    assert client.get("/profile").status_code == 200

    flow = client.get("/flow").get_data(as_text=True)
    assert "Pushed authorization request" in flow and "private_key_jwt" in flow
    for shown in ("client assertion header", "client assertion claims", "DPoP proof claims"):
        assert shown in flow, shown
    assert "DPoP proof signature" in flow
    token = peek.stored_token(client)
    assert token is not None and token.access_token not in flow


def test_a_key_file_that_is_not_a_private_key_stops_the_app(
    redis_server: RedisServer, sandbox: ServiceProcess, tmp_path: Path
) -> None:
    public = tmp_path / "public.jwk"
    public.write_text(json.dumps(ECKey.generate_key("P-256").as_dict(private=False)))
    from portal.settings import SettingsError

    with pytest.raises(SettingsError, match="AA_CLIENT_KEY_FILE"):
        portal(
            redis_server, sandbox, AA_CLIENT_KEY_FILE=str(public), AA_CLIENT_AUTH="private_key_jwt"
        )

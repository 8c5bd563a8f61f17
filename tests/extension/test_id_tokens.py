"""ID tokens: every check of OpenID Connect Core §3.1.3.7 at sign-in, and §12.2 at refresh.

Against a stand-in provider over HTTP (tests/extension/openid_standin.py), which signs tokens
wrong on purpose, with a real redis-server: the sandbox signs only right ones, which
test_openid_sandbox.py checks. A refused ID token stores nothing and revokes the grant its
answer carried.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from joserfc import jws
from joserfc.jwk import ECKey, OctKey, RSAKey

from flask_altitudeangel import ConfigError, SignInRequired
from tests import peek
from tests.extension.openid_host import host, sign_in
from tests.extension.openid_standin import CLIENT_ID, CLIENT_SECRET, StandInProvider
from tests.services import RedisServer


@pytest.fixture
def app(provider: StandInProvider, redis_server: RedisServer) -> Flask:
    return host(provider, redis_server)


def resigned(provider: StandInProvider, change: Callable[[dict[str, Any]], None]) -> Any:
    """Reshape the next ID token: change its claims, then sign it properly."""

    def reshape(claims: dict[str, Any], header: dict[str, Any]) -> str:
        change(claims)
        return provider.sign(claims, header)

    return reshape


def signed_with(key: Any, alg: str, kid: str | None = "key-1") -> Any:
    def reshape(claims: dict[str, Any], header: dict[str, Any]) -> str:
        header = {"alg": alg, **({"kid": kid} if kid else {})}
        return jws.serialize_compact(header, json.dumps(claims), key, [alg])

    return reshape


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """An ID token with no signature at all: ``alg`` none."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


def changed(**values: Any) -> Callable[[StandInProvider], Any]:
    return lambda provider: resigned(provider, lambda claims: claims.update(values))


def dropped(name: str) -> Callable[[StandInProvider], Any]:
    return lambda provider: resigned(provider, lambda claims: claims.pop(name))


def foreign(key: Callable[[], Any], alg: str, kid: str = "key-1") -> Callable[..., Any]:
    return lambda provider: signed_with(key(), alg, kid)


def rsa() -> RSAKey:
    return RSAKey.generate_key(2048)


def ec() -> ECKey:
    return ECKey.generate_key("P-256")


def client_secret() -> OctKey:
    return OctKey.import_key(CLIENT_SECRET)


NOW = int(time.time())
REFUSALS: list[tuple[str, Callable[[StandInProvider], Any], str]] = [
    ("another key", foreign(rsa, "RS256"), "signature"),
    ("EC key under the RSA kid", foreign(ec, "ES256"), "unknown_key"),
    ("a kid the provider never had", foreign(rsa, "RS256", "key-x"), "unknown_key"),
    ("the client secret, HS256", foreign(client_secret, "HS256"), "algorithm"),
    ("no signature, alg none", lambda provider: unsigned, "algorithm"),
    ("another issuer", changed(iss="https://evil.example"), "issuer"),
    ("another audience", changed(aud="another-client"), "audience"),
    ("several audiences, no azp", changed(aud=[CLIENT_ID, "x"]), "azp"),
    ("azp of another client", changed(azp="another-client"), "azp"),
    ("expired", changed(exp=NOW - 600), "expired"),
    ("no exp", dropped("exp"), "expired"),
    ("issued in the future", changed(iat=NOW + 3600), "iat"),
    ("another nonce", changed(nonce="n" * 43), "nonce"),
    ("no nonce", dropped("nonce"), "nonce"),
    ("another access token's at_hash", changed(at_hash="x" * 22), "at_hash"),
    ("no sub", dropped("sub"), "subject"),
    ("not a JWS", lambda provider: lambda claims, header: "not-a-token", "malformed"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "check"), REFUSALS, ids=[case for case, _, _ in REFUSALS])
def test_an_id_token_failing_a_check_refuses_the_sign_in_and_stores_nothing(
    app: Flask, provider: StandInProvider, case: str, make: Any, check: str
) -> None:
    provider.reshape = make(provider)
    client = app.test_client()
    refused = sign_in(client, provider)
    assert refused.status_code == 400
    assert refused.get_json() == {"reason": "invalid_id_token", "check": check}
    assert peek.login_id(client) is None and client.get("/me").status_code == 401
    granted = next(iter(provider.refresh_tokens))  # the grant the refused answer carried
    deadline = time.monotonic() + 10  # revoked in the background
    while granted not in provider.revoked and time.monotonic() < deadline:
        time.sleep(0.05)
    assert granted in provider.revoked


def test_an_id_token_replayed_from_an_earlier_sign_in_is_refused(
    app: Flask, provider: StandInProvider
) -> None:
    assert sign_in(app.test_client(), provider).status_code == 303
    earlier = provider.issued_id_tokens[-1]
    provider.reshape = lambda claims, header: earlier  # still valid, signed, for this client
    client = app.test_client()
    refused = sign_in(client, provider)
    assert refused.get_json() == {"reason": "invalid_id_token", "check": "nonce"}
    assert peek.login_id(client) is None


def test_a_sign_in_that_asked_for_openid_and_got_no_id_token_is_refused(
    app: Flask, provider: StandInProvider
) -> None:
    provider.reshape = lambda claims, header: None
    client = app.test_client()
    refused = sign_in(client, provider)
    assert refused.status_code == 400
    assert refused.get_json() == {"reason": "missing_id_token", "check": ""}
    assert peek.login_id(client) is None
    assert revoked_soon(provider, next(iter(provider.refresh_tokens)))


def test_keys_that_cannot_be_fetched_are_a_503_and_the_grant_is_revoked(
    app: Flask, provider: StandInProvider
) -> None:
    provider.jwks_down = True
    client = app.test_client()
    answer = sign_in(client, provider)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert peek.login_id(client) is None
    assert revoked_soon(provider, next(iter(provider.refresh_tokens)))


def revoked_soon(provider: StandInProvider, refresh_token: str) -> bool:
    """Wait for a revocation made in the background; tell whether it came.

    The process's two revocation threads may still be busy with earlier tests' revocations
    (some of them to servers that hang until the timeout): wait long, return when it comes.
    """
    deadline = time.monotonic() + 60
    while refresh_token not in provider.revoked and time.monotonic() < deadline:
        time.sleep(0.05)
    return refresh_token in provider.revoked


def test_a_sign_in_without_openid_sends_no_nonce_and_needs_no_id_token(
    provider: StandInProvider, redis_server: RedisServer
) -> None:
    client = host(provider, redis_server, AA_SCOPES="query_mapdata").test_client()
    assert sign_in(client, provider).status_code == 303
    assert "nonce" not in provider.authorize_requests[-1]
    assert client.get("/me").get_json() == {"sub": "", "sid": "", "claims": {}}


def test_keys_are_fetched_once_and_again_once_when_the_provider_rotates_them(
    app: Flask, provider: StandInProvider
) -> None:
    assert sign_in(app.test_client(), provider).status_code == 303
    assert sign_in(app.test_client(), provider).status_code == 303
    assert provider.jwks_fetches == 1  # kept in the process
    provider.rotate("key-2")
    assert sign_in(app.test_client(), provider).status_code == 303
    assert provider.jwks_fetches == 2  # the unknown kid: fetched again, once
    provider.reshape = signed_with(RSAKey.generate_key(2048), "RS256", "key-made-up")
    refused = sign_in(app.test_client(), provider)
    assert refused.get_json() == {"reason": "invalid_id_token", "check": "unknown_key"}
    assert provider.jwks_fetches == 2  # a made-up kid right after does not fetch them again


def test_a_refreshed_id_token_of_another_user_ends_the_login(
    app: Flask, provider: StandInProvider
) -> None:
    client = app.test_client()
    assert sign_in(client, provider).status_code == 303
    first = peek.stored_token(client)
    login_id = peek.login_id(client)
    assert first is not None and login_id is not None
    provider.refresh_reshape = resigned(provider, lambda c: c.update(sub="mallory"))
    with app.app_context(), pytest.raises(SignInRequired):
        peek.lifecycle(app).refresh_after_rejection(login_id, first)
    assert peek.stored_token(client) is None
    assert client.get("/me").status_code == 401
    received = next(iter(provider.refresh_tokens))  # the refresh's own, never stored
    assert revoked_soon(provider, received) and revoked_soon(provider, first.refresh_token)


def test_asking_for_openid_without_the_providers_keys_stops_the_app_at_start_up(
    provider: StandInProvider, redis_server: RedisServer
) -> None:
    with pytest.raises(ConfigError, match="AA_JWKS_URI"):
        host(provider, redis_server, AA_DISCOVERY="0")

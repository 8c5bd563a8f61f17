"""private_key_jwt assertions (RFC 7523): short-lived, each its own jti, for the issuer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from tests import peek
from tests.portal.conftest import app_environment, portal_for, sign_in_with
from tests.portal.test_client_features import blind_environment, register_key_client
from tests.portal.test_flow import jwt_parts
from tests.portal.test_sign_out import csrf_token
from tests.services import RedisServer, ServiceProcess


@pytest.fixture
def assertions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Collect the claims of each client assertion the app sends, as it went on the wire.

    A spy on requests, not a mock: every request still goes to the sandbox, which checks each
    assertion's signature, audience, lifetime and jti before it answers.
    """
    sent: list[dict[str, Any]] = []
    real = requests.Session.send

    def send(session: requests.Session, request: requests.PreparedRequest, **kw: Any) -> Any:
        body = request.body
        form = dict(parse_qsl(body.decode() if isinstance(body, bytes) else str(body or "")))
        if "client_assertion" in form:
            sent.append(jwt_parts(form["client_assertion"])[1])
        return real(session, request, **kw)

    monkeypatch.setattr(requests.Session, "send", send)
    yield sent


def test_assertions_live_a_minute_each_with_its_own_jti_for_the_published_issuer(
    redis_server: RedisServer,
    sandbox: ServiceProcess,
    tmp_path: Path,
    assertions: list[dict[str, Any]],
) -> None:
    client_id, key_file = register_key_client(sandbox, tmp_path)
    env = app_environment(
        redis_server, sandbox, AA_CLIENT_ID=client_id, AA_CLIENT_KEY_FILE=str(key_file)
    )
    env["AA_PAR"] = "auto"
    del env["AA_CLIENT_SECRET"]
    app = portal_for(env)
    issuer = peek.config(app).metadata["issuer"]
    client = app.test_client()
    assert sign_in_with(client).status_code == 303  # the sandbox accepted each of them
    signed_out = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert signed_out.status_code == 303  # after a revocation, asserted the same way
    assert len(assertions) == 3  # the pushed request, the code exchange, the revocation
    for claims in assertions:
        assert claims["exp"] - claims["iat"] == 60
        assert claims["aud"] == issuer
        assert claims["iss"] == claims["sub"] == client_id
    assert len({claims["jti"] for claims in assertions}) == len(assertions)


def test_without_an_issuer_published_the_audience_is_the_token_endpoint(
    redis_server: RedisServer,
    sandbox: ServiceProcess,
    tmp_path: Path,
    assertions: list[dict[str, Any]],
) -> None:
    client_id, key_file = register_key_client(sandbox, tmp_path)
    env = blind_environment(
        redis_server,
        sandbox,
        AA_CLIENT_ID=client_id,
        AA_CLIENT_KEY_FILE=str(key_file),
        AA_CLIENT_AUTH="private_key_jwt",
    )
    del env["AA_CLIENT_SECRET"]
    app = portal_for(env)
    assert peek.config(app).metadata == {}
    assert sign_in_with(app.test_client()).status_code == 303
    assert assertions and {c["aud"] for c in assertions} == {peek.config(app).token_url}
    assert all(c["exp"] - c["iat"] == 60 for c in assertions)

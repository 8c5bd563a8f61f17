"""AA_PROFILE=fapi2 and the client's own key: the algorithms it may sign with, and PS256 for RSA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from joserfc.jwk import ECKey, RSAKey

from app import create_app
from portal.settings import SettingsError
from tests import peek
from tests.extension.test_fapi2_profile import (
    callback_of,
    fapi_environment,
    form_of,
    refused_once_read,
)
from tests.portal.conftest import portal_for
from tests.portal.test_flow import jwt_parts
from tests.services import RedisServer, ServiceProcess


def rs256_jwk_file(directory: Path) -> Path:
    """An RSA private key in a JWK file that names RS256 as its algorithm."""
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, private=True)
    path = directory / "rs256.jwk"
    path.write_text(json.dumps(key.as_dict(private=True)))
    return path


@pytest.mark.parametrize("refused_for", ["RS256", "ES384"])
def test_a_client_key_signing_with_another_algorithm_is_refused(
    redis_server: RedisServer, fapi_sandbox: ServiceProcess, tmp_path: Path, refused_for: str
) -> None:
    env = fapi_environment(redis_server, fapi_sandbox, tmp_path)
    if refused_for == "RS256":
        env["AA_CLIENT_KEY_FILE"] = str(rs256_jwk_file(tmp_path))
    else:
        key = ECKey.generate_key("P-384", private=True)
        Path(env["AA_CLIENT_KEY_FILE"]).write_bytes(key.as_pem(private=True))
    refusal = refused_once_read(env)
    assert f"AA_CLIENT_KEY_FILE holds a key that signs with {refused_for}" in refusal


def test_an_rsa_key_signs_its_assertions_with_ps256_under_the_profile(
    redis_server: RedisServer,
    fapi_sandbox: ServiceProcess,
    tmp_path: Path,
    sent: list[requests.PreparedRequest],
) -> None:
    key = RSAKey.generate_key(2048, private=True)  # a PEM file: no "alg" of its own
    app = portal_for(fapi_environment(redis_server, fapi_sandbox, tmp_path, key))
    client = app.test_client()
    assert client.get(callback_of(client)).status_code == 303  # the sandbox checked it
    token_url = peek.config(app).token_url
    exchange = next(r for r in sent if str(r.url) == token_url)
    assert jwt_parts(form_of(exchange)["client_assertion"])[0]["alg"] == "PS256"


def test_a_missing_key_under_the_profile_is_named_once(
    redis_server: RedisServer, fapi_sandbox: ServiceProcess, tmp_path: Path
) -> None:
    env = fapi_environment(redis_server, fapi_sandbox, tmp_path, AA_CLIENT_KEY_FILE="")
    with pytest.raises(SettingsError) as refused:
        create_app(env)
    assert str(refused.value).count("AA_CLIENT_KEY_FILE") == 1, str(refused.value)

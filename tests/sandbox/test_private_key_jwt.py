"""RFC 7523 private_key_jwt: clients that authenticate with a JWT signed by a registered key."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from tests.sandbox.dpop_client import DELETE, DPoPKey
from tests.sandbox.flow import DEMO_REDIRECT, SandboxBrowser
from tests.sandbox.oauth import exchange_code, register_client, token_request
from tests.services import ADMIN_SECRET, ServiceProcess

TOKEN = "/oauth/v2/token"
REVOKE = "/oauth/v2/revoke"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "scope": "query_mapdata"}


def assertion(key: DPoPKey, client_id: str, aud: Any = None, **claims: Any) -> dict[str, str]:
    """Return the form fields of a client assertion signed by ``key``; ``claims`` override."""
    now = int(time.time())
    fields = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    signed = key.sign(
        {"alg": key.alg, "kid": key.jkt}, {k: v for k, v in fields.items() if v is not DELETE}
    )
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}


def jwks(*keys: DPoPKey) -> dict[str, Any]:
    return {"keys": [key.public for key in keys]}


@pytest.fixture(scope="module")
def key() -> DPoPKey:
    return DPoPKey("ES256")


@pytest.fixture(scope="module")
def client_id(base_url: str, key: DPoPKey) -> str:
    client = register_client(
        base_url,
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks(key),
        scopes=["query_userinfo", "query_mapdata"],
        redirect_uris=[DEMO_REDIRECT],
    )
    assert "client_secret" not in client
    return str(client["client_id"])


def by_assertion(
    base_url: str,
    client_id: str,
    form: dict[str, str],
    data: dict[str, str] | None = None,
    path: str = TOKEN,
) -> requests.Response:
    """POST ``data`` (client credentials) as ``client_id`` authenticating with ``form``."""
    body = {**(data or CLIENT_CREDENTIALS), **form}
    return token_request(base_url, body, client_id, None, path=path)


def test_a_signed_assertion_authenticates_the_client(
    base_url: str, key: DPoPKey, client_id: str
) -> None:
    for aud in (base_url + TOKEN, base_url):
        response = by_assertion(base_url, client_id, assertion(key, client_id, aud))
        assert response.status_code == 200, (aud, response.text)


def test_a_reused_jti_is_refused(base_url: str, key: DPoPKey, client_id: str) -> None:
    form = assertion(key, client_id, base_url + TOKEN)
    assert by_assertion(base_url, client_id, form).status_code == 200
    again = by_assertion(base_url, client_id, form)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "https://other.example/oauth/v2/token"}, "another server"),
        ({"aud": "REVOKE"}, "the revocation endpoint"),
        ({"aud": DELETE}, "no aud"),
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"exp": DELETE}, "no exp"),
        ({"exp": int(time.time()) + 7200}, "living two hours"),
        ({"jti": DELETE}, "no jti"),
        ({"iss": "demo-portal"}, "iss not sub"),
    ],
)
def test_bad_assertions_are_refused(
    base_url: str, key: DPoPKey, client_id: str, claims: dict[str, Any], why: str
) -> None:
    if claims.get("aud") == "REVOKE":
        claims = {"aud": base_url + REVOKE}
    claims = {"aud": base_url + TOKEN, **claims}
    response = by_assertion(base_url, client_id, assertion(key, client_id, **claims))
    assert response.status_code == 401, why
    assert response.json()["error"] == "invalid_client", why


def test_an_assertion_signed_by_another_key_is_refused(base_url: str, client_id: str) -> None:
    stranger = DPoPKey("ES256")
    form = assertion(stranger, client_id, base_url + TOKEN)
    assert by_assertion(base_url, client_id, form).status_code == 401
    # Claiming to be another client: its keys do not verify this one's signature.
    as_other = assertion(stranger, "demo-portal", base_url + TOKEN)
    assert by_assertion(base_url, "demo-portal", as_other).status_code == 401


def test_an_unsigned_assertion_is_refused(base_url: str, key: DPoPKey, client_id: str) -> None:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": base_url + TOKEN, "exp": now + 60}
    unsigned = key.sign({"alg": "none"}, {**claims, "jti": str(uuid.uuid4())}, key=None)
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": unsigned}
    assert by_assertion(base_url, client_id, form).status_code == 401


def test_two_ways_of_authenticating_at_once_are_refused(
    base_url: str, key: DPoPKey, client_id: str
) -> None:
    form = {**assertion(key, client_id, base_url + TOKEN), "client_secret": "anything"}
    response = by_assertion(base_url, client_id, form)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_private_key_jwt_client_has_no_secret(base_url: str, client_id: str) -> None:
    response = token_request(base_url, CLIENT_CREDENTIALS, client_id, "any-secret-at-all")
    assert response.status_code == 401


def test_sign_in_refresh_and_revoke_with_assertions(
    base_url: str, key: DPoPKey, client_id: str
) -> None:
    code = SandboxBrowser(base_url).authorize(client_id=client_id, scope="query_userinfo").code
    form = assertion(key, client_id, base_url + TOKEN)
    tokens = exchange_code(base_url, code, client_id=client_id, secret=None, **form)
    assert tokens.status_code == 200, tokens.text
    data = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}
    renewed = by_assertion(base_url, client_id, assertion(key, client_id, base_url), data)
    assert renewed.status_code == 200, renewed.text
    data["refresh_token"] = renewed.json()["refresh_token"]
    revoked = by_assertion(
        base_url,
        client_id,
        assertion(key, client_id, base_url),
        {"token": data["refresh_token"]},
        REVOKE,
    )
    assert revoked.status_code == 200
    again = by_assertion(base_url, client_id, assertion(key, client_id, base_url), data)
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "EdDSA"])
def test_each_offered_algorithm_works(base_url: str, alg: str) -> None:
    key = DPoPKey(alg)
    client_id = register_client(
        base_url,
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks(key),
        scopes=["query_mapdata"],
    )["client_id"]
    assert by_assertion(base_url, client_id, assertion(key, client_id, base_url)).status_code == 200


def test_the_par_endpoint_also_accepts_its_own_url_as_aud(
    base_url: str, key: DPoPKey, client_id: str
) -> None:
    par = base_url + "/oauth/v2/par"
    data = {"response_type": "code", "redirect_uri": DEMO_REDIRECT, "scope": "query_userinfo"}
    for aud in (par, base_url + TOKEN, base_url):
        pushed = by_assertion(
            base_url, client_id, assertion(key, client_id, aud), data, "/oauth/v2/par"
        )
        assert pushed.status_code == 201, (aud, pushed.text)
    # The PAR endpoint's URL is no audience of the token endpoint.
    assert by_assertion(base_url, client_id, assertion(key, client_id, par)).status_code == 401


def test_the_revocation_endpoint_also_accepts_its_own_url_as_aud(
    base_url: str, key: DPoPKey, client_id: str
) -> None:
    revoke = base_url + REVOKE
    for aud in (revoke, base_url + TOKEN, base_url):
        form = assertion(key, client_id, aud)
        revoked = by_assertion(base_url, client_id, form, {"token": "unknown"}, REVOKE)
        assert revoked.status_code == 200, (aud, revoked.text)
    # The PAR endpoint's URL is no audience of the revocation endpoint.
    form = assertion(key, client_id, base_url + "/oauth/v2/par")
    refused = by_assertion(base_url, client_id, form, {"token": "unknown"}, REVOKE)
    assert refused.status_code == 401


def put_jwks(base_url: str, client_id: str, body: Any) -> requests.Response:
    return requests.put(
        f"{base_url}/_sandbox/clients/{client_id}/jwks",
        json=body,
        headers={"X-Sandbox-Admin": ADMIN_SECRET},
        timeout=5,
    )


def test_keys_can_be_added_to_a_secret_client_and_rotated(base_url: str) -> None:
    client = register_client(base_url, scopes=["query_mapdata"])
    client_id, secret = client["client_id"], client["client_secret"]
    old, new = DPoPKey(), DPoPKey("RS256")
    assert by_assertion(base_url, client_id, assertion(old, client_id, base_url)).status_code == 401
    added = put_jwks(base_url, client_id, jwks(old))
    assert added.status_code == 200
    assert added.json() == {"client_id": client_id, "kids": [old.jkt]}
    assert by_assertion(base_url, client_id, assertion(old, client_id, base_url)).status_code == 200
    # Its secret still works: the keys are one more way in.
    assert token_request(base_url, CLIENT_CREDENTIALS, client_id, secret).status_code == 200
    assert put_jwks(base_url, client_id, jwks(new)).status_code == 200
    assert by_assertion(base_url, client_id, assertion(old, client_id, base_url)).status_code == 401
    assert by_assertion(base_url, client_id, assertion(new, client_id, base_url)).status_code == 200


def test_a_set_of_several_keys_picks_by_kid(base_url: str) -> None:
    first, second = DPoPKey(), DPoPKey("EdDSA")
    client_id = register_client(
        base_url,
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks(first, second),
        scopes=["query_mapdata"],
    )["client_id"]
    for key in (first, second):
        assert (
            by_assertion(base_url, client_id, assertion(key, client_id, base_url)).status_code
            == 200
        )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"keys": []}, "empty"),
        ([], "not a set"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}]}, "symmetric"),
        ({"keys": [{"kty": "EC", "crv": "P-256", "x": "bad"}]}, "broken"),
        ("PRIVATE", "a private key"),
    ],
)
def test_jwks_registration_is_validated(base_url: str, client_id: str, body: Any, why: str) -> None:
    if body == "PRIVATE":
        body = {"keys": [DPoPKey().key.as_dict(private=True)]}
    response = put_jwks(base_url, client_id, body)
    assert response.status_code == 400, why
    assert "keys" in response.json()["fields"], why


def test_jwks_need_a_known_confidential_client(base_url: str) -> None:
    assert put_jwks(base_url, "no-such-client", jwks(DPoPKey())).status_code == 404
    public = register_client(base_url, token_endpoint_auth_method="none")["client_id"]
    assert put_jwks(base_url, public, jwks(DPoPKey())).status_code == 400
    headers = {"X-Sandbox-Admin": "wrong"}
    url = f"{base_url}/_sandbox/clients/demo-portal/jwks"
    assert requests.put(url, json=jwks(DPoPKey()), headers=headers, timeout=5).status_code == 403


def test_registration_needs_keys_for_private_key_jwt(
    base_url: str, admin_headers: dict[str, str]
) -> None:
    body = {
        "client_id": "keyless",
        "scopes": ["query_mapdata"],
        "token_endpoint_auth_method": "private_key_jwt",
    }
    response = requests.post(
        base_url + "/_sandbox/clients", json=body, headers=admin_headers, timeout=5
    )
    assert response.status_code == 400
    assert "jwks" in response.json()["fields"]


def test_aa_public_takes_no_assertions(public_sandbox: ServiceProcess) -> None:
    url = public_sandbox.url
    key = DPoPKey()
    client_id = register_client(
        url, token_endpoint_auth_method="private_key_jwt", jwks=jwks(key), scopes=["query_mapdata"]
    )["client_id"]
    assert by_assertion(url, client_id, assertion(key, client_id, url)).status_code == 401

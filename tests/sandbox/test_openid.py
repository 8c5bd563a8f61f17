"""OpenID Connect: discovery, signed ID tokens (nonce, sid, at_hash), refreshes and UserInfo."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.sandbox.conftest import Login, fresh_login
from tests.sandbox.flow import DEMO_CLIENT, SandboxBrowser
from tests.sandbox.oauth import api, exchange_code, refresh
from tests.sandbox.test_par import finish, request_uri, use
from tests.services import ServiceProcess

ALICE = "aa-user-5f1c2a9e-alice"
OPENID_SCOPES = "openid query_userinfo manage_flightreports"
LOGOUT = "/oauth/v2/logout"
SIGNED_OUT = "http://127.0.0.1:5000/signed-out"


def at_hash(access_token: str) -> str:
    """Core §3.1.3.6 for RS256, written here apart from the sandbox's."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def verified(base_url: str, id_token: str) -> jwt.Token:
    """Verify an ID token with the JWK Set the metadata names."""
    metadata = requests.get(base_url + "/.well-known/openid-configuration", timeout=5).json()
    jwks = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    return jwt.decode(id_token, jwks, algorithms=metadata["id_token_signing_alg_values_supported"])


def openid_login(browser: SandboxBrowser, nonce: str = "n-0S6_WzA2Mj", **params: str) -> Login:
    return fresh_login(browser, scope=OPENID_SCOPES, nonce=nonce, **params)


@pytest.fixture
def signed_in(base_url: str) -> SandboxBrowser:
    """A browser of its own, so its sandbox session is nobody else's."""
    browser = SandboxBrowser(base_url)
    browser.authorize(scope=OPENID_SCOPES)
    return browser


def test_discovery_describes_an_openid_provider_at_both_addresses(base_url: str) -> None:
    openid = requests.get(base_url + "/.well-known/openid-configuration", timeout=5)
    oauth = requests.get(base_url + "/.well-known/oauth-authorization-server", timeout=5)
    assert openid.status_code == 200
    metadata = openid.json()
    assert metadata == oauth.json()
    assert metadata["issuer"] == base_url
    assert metadata["jwks_uri"] == base_url + "/.well-known/jwks.json"
    assert metadata["userinfo_endpoint"] == base_url + "/userProfile"
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["subject_types_supported"] == ["public"]
    assert "openid" in metadata["scopes_supported"]
    claims = {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "at_hash"}
    assert claims <= set(metadata["claims_supported"])
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True


def test_a_sign_in_with_openid_brings_a_signed_id_token(
    base_url: str, signed_in: SandboxBrowser
) -> None:
    before = int(time.time())
    login = openid_login(signed_in, nonce="nonce-1")
    token = verified(base_url, str(login.body["id_token"]))
    jwks = requests.get(base_url + "/.well-known/jwks.json", timeout=5).json()
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    assert token.header["typ"] == "JWT"  # not an access token (at+jwt), nor a logout token
    claims = token.claims
    assert claims["iss"] == base_url
    assert claims["sub"] == ALICE
    assert claims["aud"] == DEMO_CLIENT
    assert claims["nonce"] == "nonce-1"
    assert claims["at_hash"] == at_hash(login.access_token)
    assert claims["sid"]
    assert before - 60 <= claims["iat"] <= time.time() + 60
    assert claims["exp"] > claims["iat"]
    assert claims["auth_time"] <= claims["iat"]
    assert "client_id" not in claims and "scope" not in claims


def test_without_openid_no_id_token(alice: Login) -> None:
    assert "openid" not in alice.scope.split()
    assert "id_token" not in alice.body


def test_sid_is_the_browser_session_and_auth_time_its_sign_in(base_url: str) -> None:
    first, other = SandboxBrowser(base_url), SandboxBrowser(base_url)
    one = verified(base_url, str(openid_login(first).body["id_token"])).claims
    two = verified(base_url, str(openid_login(first).body["id_token"])).claims
    elsewhere = verified(base_url, str(openid_login(other).body["id_token"])).claims
    assert one["sid"] == two["sid"]
    assert one["auth_time"] == two["auth_time"]
    assert elsewhere["sid"] != one["sid"]
    # Signing out and in again is a new session.
    page = first.get("/sandbox/")
    first.submit(page)
    again = verified(base_url, str(openid_login(first).body["id_token"])).claims
    assert again["sid"] not in (one["sid"], elsewhere["sid"])


def test_each_sign_in_carries_its_own_nonce_and_none_when_none_was_sent(
    base_url: str, signed_in: SandboxBrowser
) -> None:
    callback = signed_in.authorize(scope=OPENID_SCOPES)  # no nonce: it is optional for codes
    body = exchange_code(base_url, callback.code).json()
    assert "nonce" not in verified(base_url, body["id_token"]).claims
    nonces = [
        verified(base_url, str(openid_login(signed_in, nonce=n).body["id_token"])) for n in "ab"
    ]
    assert [token.claims["nonce"] for token in nonces] == ["a", "b"]


def test_a_pushed_request_carries_its_nonce(base_url: str, signed_in: SandboxBrowser) -> None:
    uri = request_uri(base_url, params={"scope": OPENID_SCOPES, "nonce": "pushed-nonce"})
    callback = finish(signed_in, use(signed_in, uri))
    body = exchange_code(base_url, callback.code).json()
    assert verified(base_url, body["id_token"]).claims["nonce"] == "pushed-nonce"


def test_a_refresh_brings_an_id_token_of_the_same_user_and_session_without_nonce(
    base_url: str, signed_in: SandboxBrowser
) -> None:
    login = openid_login(signed_in, nonce="first")
    first = verified(base_url, str(login.body["id_token"])).claims
    renewed = refresh(base_url, login.refresh_token).json()
    claims = verified(base_url, renewed["id_token"]).claims
    assert claims["sub"] == first["sub"] and claims["aud"] == DEMO_CLIENT
    assert claims["sid"] == first["sid"] and claims["auth_time"] == first["auth_time"]
    assert "nonce" not in claims
    assert claims["at_hash"] == at_hash(renewed["access_token"])
    # And again with the rotated refresh token.
    again = refresh(base_url, renewed["refresh_token"]).json()
    assert verified(base_url, again["id_token"]).claims["sid"] == first["sid"]


def test_a_refresh_of_a_login_without_openid_brings_none(base_url: str, alice: Login) -> None:
    renewed = refresh(base_url, alice.refresh_token).json()
    assert "access_token" in renewed and "id_token" not in renewed


def test_a_refresh_narrowed_to_leave_openid_out_brings_none(
    base_url: str, signed_in: SandboxBrowser
) -> None:
    login = openid_login(signed_in)
    renewed = refresh(base_url, login.refresh_token, scope="query_userinfo").json()
    assert renewed["scope"] == "query_userinfo" and "id_token" not in renewed


def userinfo(base_url: str, browser: SandboxBrowser, scope: str) -> requests.Response:
    login = fresh_login(browser, scope=scope)
    return api(base_url, "GET", "/userProfile", login.access_token)


def test_userinfo_gives_sub_to_openid_and_the_profile_to_query_userinfo(
    base_url: str, signed_in: SandboxBrowser
) -> None:
    assert userinfo(base_url, signed_in, "openid").json() == {"sub": ALICE}
    both: dict[str, Any] = userinfo(base_url, signed_in, "openid query_userinfo").json()
    assert both["sub"] == ALICE and both["aa_id"] == ALICE and both["first_name"] == "Alice"
    platform = userinfo(base_url, signed_in, "query_userinfo").json()
    assert "sub" not in platform and platform["aa_id"] == ALICE
    refused = userinfo(base_url, signed_in, "manage_flightreports")
    assert refused.status_code == 401
    challenge = 'Bearer error="insufficient_scope", scope="query_userinfo"'
    assert refused.headers["WWW-Authenticate"] == challenge


def test_the_end_session_endpoint_takes_an_id_token_as_hint(
    base_url: str, signed_in: SandboxBrowser
) -> None:
    hint = str(openid_login(signed_in).body["id_token"])
    page = signed_in.get(LOGOUT, id_token_hint=hint, post_logout_redirect_uri=SIGNED_OUT)
    assert page.status_code == 200 and "Demo Portal" in page.text
    response = signed_in.submit(page, button="sign_out")
    assert response.headers["Location"] == SIGNED_OUT
    mismatch = SandboxBrowser(base_url).get(LOGOUT, id_token_hint=hint, client_id="demo-readonly")
    assert mismatch.status_code == 400


def test_generic_mode_speaks_openid_at_its_own_paths(generic_sandbox: ServiceProcess) -> None:
    url = generic_sandbox.url
    metadata = requests.get(url + "/.well-known/openid-configuration", timeout=5).json()
    assert metadata["userinfo_endpoint"] == url + "/o/userinfo/"
    browser = SandboxBrowser(url)
    callback = browser.authorize(path="/o/authorize/", scope="openid", nonce="g")
    body = exchange_code(url, callback.code, path="/o/token/").json()
    claims = verified(url, body["id_token"]).claims
    assert claims["nonce"] == "g" and claims["iss"] == url
    assert api(url, "GET", "/o/userinfo/", body["access_token"]).json() == {"sub": ALICE}


def test_opaque_access_tokens_still_come_with_verifiable_id_tokens(
    opaque_sandbox: ServiceProcess,
) -> None:
    url = opaque_sandbox.url
    browser = SandboxBrowser(url)
    callback = browser.authorize(path="/o/authorize/", scope="openid query_userinfo", nonce="o")
    body = exchange_code(url, callback.code, path="/o/token/").json()
    assert "." not in body["access_token"]
    claims = verified(url, body["id_token"]).claims
    assert claims["at_hash"] == at_hash(body["access_token"])

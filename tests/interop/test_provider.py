"""oidc-provider behaves as the client will need: PAR, private_key_jwt, DPoP, refresh, sign-out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.interop.flow import SCOPE, SignIn, call, endpoint_request, refresh, sign_in
from tests.interop.oauth import DPoPClient, DPoPKey, FormBrowser, forms_of
from tests.interop.provider import OpenIDProvider


@pytest.fixture(scope="module")
def dpop() -> DPoPClient:
    return DPoPClient()


@pytest.fixture(scope="module")
def signed_in(oidc_provider: OpenIDProvider, dpop: DPoPClient) -> SignIn:
    """Alice, signed in through the private_key_jwt client with DPoP."""
    return sign_in(oidc_provider, oidc_provider.key_client, dpop)


def test_discovery_advertises_par_dpop_private_key_jwt_revocation_and_sign_out(
    oidc_provider: OpenIDProvider,
) -> None:
    metadata = oidc_provider.metadata
    issuer = oidc_provider.issuer
    assert metadata["issuer"] == issuer
    assert metadata["pushed_authorization_request_endpoint"] == issuer + "/request"
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert "ES256" in metadata["token_endpoint_auth_signing_alg_values_supported"]
    assert metadata["end_session_endpoint"] == issuer + "/session/end"
    assert metadata["revocation_endpoint"] == issuer + "/token/revocation"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert set(SCOPE.split()) <= set(metadata["scopes_supported"])
    assert "require_pushed_authorization_requests" not in metadata


def test_the_authorize_url_carries_only_the_client_id_and_request_uri(
    signed_in: SignIn, oidc_provider: OpenIDProvider
) -> None:
    query = parse_qs(urlsplit(signed_in.authorize_url).query)
    assert set(query) == {"client_id", "request_uri"}
    assert query["client_id"] == [oidc_provider.key_client.client_id]
    assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")


def test_the_code_exchange_issues_dpop_bound_tokens(signed_in: SignIn) -> None:
    tokens = signed_in.tokens
    assert tokens["token_type"] == "DPoP"
    assert tokens["expires_in"] == 60
    assert tokens["refresh_token"] and tokens["id_token"]
    assert set(tokens["scope"].split()) == set(SCOPE.split())


def test_userinfo_and_the_resource_answer_a_dpop_token_with_its_proof(
    oidc_provider: OpenIDProvider, signed_in: SignIn, dpop: DPoPClient
) -> None:
    token = signed_in.tokens["access_token"]
    userinfo = dpop.request("GET", oidc_provider.endpoint("userinfo"), access_token=token)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == "alice"
    assert userinfo.json()["email"] == "alice@example.com"
    profile = dpop.request("GET", oidc_provider.resource_url, access_token=token)
    assert profile.status_code == 200, profile.text
    assert profile.json()["aa_id"] == "aa-user-5f1c2a9e-alice"


def protected_url(provider: OpenIDProvider, where: str) -> str:
    """The provider's userinfo endpoint or the resource it protects, as a test asks."""
    return provider.endpoint("userinfo") if where == "userinfo" else provider.resource_url


@pytest.mark.parametrize("where", ["userinfo", "resource"])
def test_a_dpop_token_presented_as_a_bearer_token_is_refused(
    oidc_provider: OpenIDProvider, signed_in: SignIn, dpop: DPoPClient, where: str
) -> None:
    url = protected_url(oidc_provider, where)
    token = signed_in.tokens["access_token"]
    response = call(url, token, "Bearer")
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("DPoP ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    # Even with a good proof beside it: the scheme must say DPoP (RFC 9449 §7.1). oidc-provider's
    # userinfo calls that a malformed request (400), the resource an unusable token (401).
    with_proof = call(url, token, "Bearer", dpop.key.proof("GET", url, token))
    assert with_proof.status_code in (400, 401), with_proof.text
    assert with_proof.json()["error"] in ("invalid_request", "invalid_token")


@pytest.mark.parametrize("where", ["userinfo", "resource"])
def test_a_proof_from_another_key_or_none_is_refused(
    oidc_provider: OpenIDProvider, signed_in: SignIn, where: str
) -> None:
    url = protected_url(oidc_provider, where)
    token = signed_in.tokens["access_token"]
    other_key = call(url, token, "DPoP", DPoPKey().proof("GET", url, token))
    assert other_key.status_code == 401, other_key.text
    assert 'error="invalid_token"' in other_key.headers["WWW-Authenticate"]
    # oidc-provider's userinfo calls a missing proof a malformed request (400), the resource an
    # unusable token (401): both refuse it.
    no_proof = call(url, token, "DPoP")
    assert no_proof.status_code in (400, 401), no_proof.text
    assert no_proof.json()["error"] in ("invalid_request", "invalid_token")


@pytest.mark.parametrize("where", ["userinfo", "resource"])
def test_a_proof_is_accepted_once(
    oidc_provider: OpenIDProvider, signed_in: SignIn, dpop: DPoPClient, where: str
) -> None:
    url = protected_url(oidc_provider, where)
    token = signed_in.tokens["access_token"]
    proof = dpop.key.proof("GET", url, token)
    assert call(url, token, "DPoP", proof).status_code == 200
    replayed = call(url, token, "DPoP", proof)
    assert replayed.status_code == 401, replayed.text


@pytest.mark.parametrize(
    ("method", "path", "for_token"),
    [("POST", "/resource/userProfile", True), ("GET", "/me", True), ("GET", None, False)],
    ids=["wrong-method", "wrong-url", "wrong-token"],
)
def test_the_resource_refuses_a_proof_made_for_another_request(
    oidc_provider: OpenIDProvider,
    signed_in: SignIn,
    dpop: DPoPClient,
    method: str,
    path: str | None,
    for_token: bool,
) -> None:
    token = signed_in.tokens["access_token"]
    url = oidc_provider.issuer + path if path else oidc_provider.resource_url
    proof = dpop.key.proof(method, url, token if for_token else token + "x")
    response = call(oidc_provider.resource_url, token, "DPoP", proof)
    assert response.status_code == 401, response.text
    assert 'error="invalid_dpop_proof"' in response.headers["WWW-Authenticate"]


def test_a_refresh_with_a_new_proof_rotates_the_refresh_token(
    oidc_provider: OpenIDProvider, signed_in: SignIn, dpop: DPoPClient
) -> None:
    client = oidc_provider.key_client
    without_proof = refresh(oidc_provider, client, signed_in.tokens["refresh_token"])
    assert without_proof.status_code == 400, without_proof.text
    assert without_proof.json()["error"] == "invalid_grant"
    assert "(DPoP proof JWT not provided)" in oidc_provider.service.log_text()
    response = refresh(oidc_provider, client, signed_in.tokens["refresh_token"], dpop)
    assert response.status_code == 200, response.text
    renewed = response.json()
    assert renewed["token_type"] == "DPoP"
    assert renewed["access_token"] != signed_in.tokens["access_token"]
    assert renewed["refresh_token"] != signed_in.tokens["refresh_token"]
    profile = dpop.request("GET", oidc_provider.resource_url, access_token=renewed["access_token"])
    assert profile.status_code == 200, profile.text


def test_a_sign_in_without_openid_still_gets_a_refresh_token(
    oidc_provider: OpenIDProvider,
) -> None:
    """The client's default scopes (AA_SCOPES): plain OAuth, no ID token, still refreshable."""
    dpop = DPoPClient()
    scope = "query_userinfo manage_flightreports query_mapdata"
    tokens = sign_in(oidc_provider, oidc_provider.key_client, dpop, scope=scope).tokens
    assert "id_token" not in tokens
    assert tokens["scope"] == scope
    renewed = refresh(oidc_provider, oidc_provider.key_client, tokens["refresh_token"], dpop)
    assert renewed.status_code == 200, renewed.text
    profile = dpop.request("GET", oidc_provider.resource_url, access_token=tokens["access_token"])
    assert profile.json()["email"] == "alice@example.com"


def test_a_spent_refresh_token_used_again_ends_the_grant(oidc_provider: OpenIDProvider) -> None:
    dpop, client = DPoPClient(), oidc_provider.key_client
    tokens = sign_in(oidc_provider, client, dpop, username="bob").tokens
    renewed = refresh(oidc_provider, client, tokens["refresh_token"], dpop).json()
    replayed = refresh(oidc_provider, client, tokens["refresh_token"], dpop)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    assert refresh(oidc_provider, client, renewed["refresh_token"], dpop).status_code == 400
    resource = dpop.request("GET", oidc_provider.resource_url, access_token=renewed["access_token"])
    assert resource.status_code == 401, resource.text


def test_a_revoked_refresh_token_is_refused(oidc_provider: OpenIDProvider) -> None:
    dpop, client = DPoPClient(), oidc_provider.key_client
    tokens = sign_in(oidc_provider, client, dpop).tokens
    fields = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
    revoked = endpoint_request(oidc_provider, client, "revocation", fields)
    assert revoked.status_code == 200, revoked.text
    response = refresh(oidc_provider, client, tokens["refresh_token"], dpop)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_the_client_secret_post_client_gets_bearer_tokens(oidc_provider: OpenIDProvider) -> None:
    tokens = sign_in(oidc_provider, oidc_provider.secret_client).tokens
    assert tokens["token_type"] == "Bearer"
    profile = call(oidc_provider.resource_url, tokens["access_token"], "Bearer")
    assert profile.status_code == 200, profile.text
    assert profile.json()["first_name"] == "Alice"
    as_dpop = call(oidc_provider.resource_url, tokens["access_token"], "DPoP", "x.y.z")
    assert as_dpop.status_code == 401


def test_a_wrong_password_shows_the_form_again(oidc_provider: OpenIDProvider) -> None:
    client = oidc_provider.secret_client
    query = {
        "client_id": client.client_id,
        "response_type": "code",
        "redirect_uri": oidc_provider.redirect_uri,
        "scope": "openid query_userinfo",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    browser = FormBrowser()
    url = oidc_provider.endpoint("authorization") + "?" + urlencode(query)
    page = browser.open(url, oidc_provider.redirect_uri)
    again = browser.submit(
        page, "login", oidc_provider.redirect_uri, username="alice", password="looking-glass"
    )
    assert again.status_code == 401
    assert "Wrong username or password." in again.text
    assert "login" in forms_of(again.text)


def test_sign_out_at_the_provider_returns_to_the_client_and_ends_the_session(
    oidc_provider: OpenIDProvider,
) -> None:
    client = oidc_provider.secret_client
    done = sign_in(oidc_provider, client)
    query = {
        "id_token_hint": done.tokens["id_token"],
        "post_logout_redirect_uri": oidc_provider.post_logout_redirect_uri,
        "state": "bye",
    }
    url = oidc_provider.endpoint("end_session") + "?" + urlencode(query)
    page = done.browser.open(url, oidc_provider.post_logout_redirect_uri)
    assert page.status_code == 200, page.text
    back = done.browser.submit(
        page, "op.logoutForm", oidc_provider.post_logout_redirect_uri, logout="yes"
    )
    assert back.headers["Location"] == oidc_provider.post_logout_redirect_uri + "?state=bye"
    assert done.browser.submitted == ["login", "consent"]
    sign_in(oidc_provider, client, browser=done.browser)
    assert done.browser.submitted == ["login", "consent"]  # the password, asked again


def test_a_second_sign_in_in_the_same_browser_skips_the_password(
    oidc_provider: OpenIDProvider,
) -> None:
    done = sign_in(oidc_provider, oidc_provider.secret_client)
    sign_in(oidc_provider, oidc_provider.secret_client, browser=done.browser)
    assert done.browser.submitted == ["consent"]

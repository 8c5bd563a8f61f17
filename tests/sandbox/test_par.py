"""RFC 9126 pushed authorization requests: authenticated, bound to the client, used once."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.sandbox.flow import (
    DEMO_CLIENT,
    DEMO_REDIRECT,
    READONLY_CLIENT,
    READONLY_SECRET,
    Callback,
    SandboxBrowser,
    authorize_params,
    callback_of,
    forms_of,
)
from tests.sandbox.oauth import (
    exchange_code,
    metric,
    pkce_pair,
    register_client,
    token_request,
)
from tests.services import ServiceProcess

PAR = "/oauth/v2/par"
AUTHORIZE = "/oauth/v2/authorize"
URN = "urn:ietf:params:oauth:request_uri:"


def push(base_url: str, path: str = PAR, **options: Any) -> requests.Response:
    """Push the demo portal's usual authorization request, overridden by ``params``."""
    overrides = options.pop("params", {})
    params = authorize_params(**overrides)
    if "client_id" not in overrides:
        params.pop("client_id")  # token_request names the authenticating client
    return token_request(base_url, params, path=path, **options)


def request_uri(base_url: str, **options: Any) -> str:
    response = push(base_url, **options)
    assert response.status_code == 201, response.text
    return str(response.json()["request_uri"])


def use(browser: SandboxBrowser, uri: str, client_id: str = DEMO_CLIENT, **extra: str) -> Any:
    """Send the browser to the authorization endpoint with only the client and the handle."""
    return browser.get(AUTHORIZE, client_id=client_id, request_uri=uri, **extra)


def finish(browser: SandboxBrowser, response: requests.Response) -> Callback:
    """Sign in as alice and allow, where the sandbox asks; return the callback."""
    if "/sandbox/login" in response.url and not response.is_redirect:
        response = browser.sign_in(response, "alice", "wonderland")
    if not response.is_redirect and forms_of(response.text):
        response = browser.submit(response, button="allow")
    return callback_of(response)


def test_metadata_advertises_the_endpoint(base_url: str) -> None:
    metadata = requests.get(base_url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert metadata["pushed_authorization_request_endpoint"] == base_url + PAR
    assert metadata["require_pushed_authorization_requests"] is False


def test_a_pushed_request_signs_in_as_if_sent_in_the_url(alice_browser: SandboxBrowser) -> None:
    base_url = alice_browser.base_url
    verifier, challenge = pkce_pair()
    params = {
        "state": "pushed-state",
        "scope": "query_userinfo",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = push(base_url, params=params)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["request_uri"].startswith(URN) and len(body["request_uri"]) > len(URN) + 30
    assert body["expires_in"] == 60
    callback = callback_of(use(alice_browser, body["request_uri"]))
    assert callback.location.startswith(DEMO_REDIRECT + "?")
    assert callback.params["state"] == "pushed-state"
    assert callback.params["iss"] == base_url
    assert exchange_code(base_url, callback.code).json()["error"] == "invalid_request"
    callback = callback_of(use(alice_browser, request_uri(base_url, params=params)))
    tokens = exchange_code(base_url, callback.code, code_verifier=verifier)
    assert tokens.status_code == 200
    assert tokens.json()["scope"] == "query_userinfo"


def test_sign_in_and_consent_pages_keep_the_pushed_request(base_url: str) -> None:
    SandboxBrowser(base_url).authorize(username="bob")  # bob's consent is remembered
    uri = request_uri(base_url, params={"prompt": "consent", "state": "through-pages"})
    browser = SandboxBrowser(base_url)
    page = browser.sign_in(use(browser, uri), "bob", "builder")
    # The pushed prompt=consent asks again, as it would have in the URL.
    assert "Demo Portal" in page.text
    callback = callback_of(browser.submit(page, button="allow"))
    assert callback.params["state"] == "through-pages"


def test_a_request_uri_works_once(alice_browser: SandboxBrowser) -> None:
    uri = request_uri(alice_browser.base_url)
    assert callback_of(use(alice_browser, uri)).code
    again = use(alice_browser, uri)
    assert again.status_code == 400
    assert not again.is_redirect
    assert "request_uri" in again.text


def test_a_request_uri_is_bound_to_the_client_that_pushed_it(
    alice_browser: SandboxBrowser,
) -> None:
    uri = request_uri(alice_browser.base_url)
    for client_id in (READONLY_CLIENT, ""):
        stolen = use(alice_browser, uri, client_id=client_id)
        assert stolen.status_code == 400
        assert not stolen.is_redirect
    # The refusals spent nothing: the client that pushed it still can use it.
    assert callback_of(use(alice_browser, uri)).code


def test_unknown_request_uri_is_an_error_page(alice_browser: SandboxBrowser) -> None:
    for uri in (URN + "made-up", "https://evil.example/request.jwt", ""):
        response = use(alice_browser, uri)
        assert response.status_code == 400
        assert not response.is_redirect


def test_a_request_uri_expires(short_sandbox: ServiceProcess) -> None:
    response = push(short_sandbox.url)
    assert response.json()["expires_in"] == 1
    time.sleep(1.2)
    browser = SandboxBrowser(short_sandbox.url)
    assert use(browser, response.json()["request_uri"]).status_code == 400


def test_parameters_beside_the_request_uri_are_ignored(alice_browser: SandboxBrowser) -> None:
    uri = request_uri(alice_browser.base_url, params={"state": "pushed"})
    evil = {"redirect_uri": "http://127.0.0.1:5000/evil", "scope": "manage_users", "state": "x"}
    callback = callback_of(use(alice_browser, uri, **evil))
    assert callback.location.startswith(DEMO_REDIRECT + "?")
    assert callback.params["state"] == "pushed"
    assert "error" not in callback.params


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"redirect_uri": "http://127.0.0.1:5000/evil"}, "invalid_request"),
        ({"redirect_uri": ""}, "invalid_request"),
        ({"scope": "manage_users"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"request_uri": URN + "nested"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "invalid_request"),
    ],
)
def test_bad_pushed_requests_get_a_json_error_never_a_redirect(
    base_url: str, params: dict[str, str], error: str
) -> None:
    response = push(base_url, params=params)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.json()["error"] == error


def test_the_client_authenticates_as_at_the_token_endpoint(base_url: str) -> None:
    wrong = push(base_url, secret="wrong-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    nobody = push(base_url, client_id="no-such-client")
    assert nobody.json()["error"] == "invalid_client"
    anonymous = push(base_url, secret=None)
    assert anonymous.status_code == 401
    basic = push(base_url, basic=True)
    assert basic.status_code == 201
    other = push(
        base_url,
        client_id=READONLY_CLIENT,
        secret=READONLY_SECRET,
        params={"scope": "query_mapdata"},
    )
    assert other.status_code == 201
    assert requests.get(base_url + PAR, timeout=5).status_code == 405
    # Authenticated as the demo portal, pushing for another client.
    mismatch = push(base_url, basic=True, params={"client_id": READONLY_CLIENT})
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "invalid_request"


def test_a_public_client_pushes_with_pkce(base_url: str) -> None:
    client_id = register_client(
        base_url, token_endpoint_auth_method="none", redirect_uris=[DEMO_REDIRECT]
    )["client_id"]
    params = {"scope": "query_userinfo"}
    refused = push(base_url, client_id=client_id, secret=None, params=params)
    assert refused.json()["error"] == "invalid_request"
    verifier, challenge = pkce_pair()
    params.update(code_challenge=challenge, code_challenge_method="S256")
    uri = request_uri(base_url, client_id=client_id, secret=None, params=params)
    browser = SandboxBrowser(base_url)
    callback = finish(browser, use(browser, uri, client_id))
    tokens = exchange_code(
        base_url, callback.code, client_id=client_id, secret=None, code_verifier=verifier
    )
    assert tokens.status_code == 200, tokens.text


def test_a_client_that_must_push_is_refused_a_plain_request(base_url: str) -> None:
    client = register_client(
        base_url, redirect_uris=[DEMO_REDIRECT], require_pushed_authorization_requests=True
    )
    browser = SandboxBrowser(base_url)
    plain = callback_of(browser.start(client_id=client["client_id"], scope="query_userinfo"))
    assert plain.params["error"] == "invalid_request"
    assert plain.params["state"] == "state-123"
    assert "code" not in plain.params
    uri = request_uri(
        base_url,
        client_id=client["client_id"],
        secret=client["client_secret"],
        params={"scope": "query_userinfo"},
    )
    assert finish(browser, use(browser, uri, client["client_id"])).code


def test_the_server_can_require_pushing_from_everyone(hardened_sandbox: ServiceProcess) -> None:
    url = hardened_sandbox.url
    metadata = requests.get(url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert metadata["require_pushed_authorization_requests"] is True
    browser = SandboxBrowser(url)
    assert callback_of(browser.start()).params["error"] == "invalid_request"
    assert finish(browser, use(browser, request_uri(url))).code


def test_generic_mode_path(generic_sandbox: ServiceProcess) -> None:
    url = generic_sandbox.url
    uri = request_uri(url, path="/o/par/")
    browser = SandboxBrowser(url)
    assert finish(
        browser, browser.get("/o/authorize/", client_id=DEMO_CLIENT, request_uri=uri)
    ).code


def test_pushed_requests_are_counted(base_url: str) -> None:
    def count(outcome: str) -> float:
        return metric(base_url, "sandbox_pushed_authorization_requests_total", outcome=outcome)

    before = (count("success"), count("invalid_scope"), count("invalid_client"))
    push(base_url)
    push(base_url, params={"scope": "manage_users"})
    push(base_url, secret="wrong")
    assert (count("success"), count("invalid_scope"), count("invalid_client")) == (
        before[0] + 1,
        before[1] + 1,
        before[2] + 1,
    )


def test_declining_a_pushed_request_returns_its_state(base_url: str) -> None:
    """RFC 6749 §4.1.2.1: the error response carries the state, pushed or not."""
    import requests

    from tests.oauth_driver import SandboxUser

    answer = requests.post(
        base_url + "/oauth/v2/par",
        data={
            "client_id": "demo-portal",
            "client_secret": "demo+portal/secret=&%?#2026",
            "response_type": "code",
            "redirect_uri": "http://localhost:5000/callback",
            "scope": "query_userinfo",
            "state": "declined-state-" + "s" * 28,
            "prompt": "consent",  # asked again, whatever an earlier test allowed
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        },
        timeout=5,
    )
    assert answer.status_code == 201
    request_uri = answer.json()["request_uri"]
    url = f"{base_url}/oauth/v2/authorize?client_id=demo-portal&request_uri={request_uri}"
    callback = SandboxUser("bob", "builder").authorize(
        url, "http://localhost:5000/callback", "deny"
    )
    assert "error=access_denied" in callback
    assert "state=declined-state-" in callback

"""The authorization endpoint: client checks first, sign-in, consent, and every error redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.sandbox.conftest import ALL_SCOPES
from tests.sandbox.flow import DEMO_REDIRECT, SandboxBrowser, callback_of, forms_of

AUTHORIZE = "/oauth/v2/authorize"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"client_id": "no-such-client"}, "unknown client_id"),
        ({"redirect_uri": "http://127.0.0.1:5000/evil"}, "not registered"),
        ({"redirect_uri": "http://127.0.0.1:5000/callback/"}, "not registered"),
        ({"redirect_uri": ""}, "no redirect_uri"),
    ],
)
def test_bad_client_or_redirect_uri_shows_an_error_page_and_never_redirects(
    base_url: str, params: dict[str, str], reason: str
) -> None:
    response = SandboxBrowser(base_url).start(**params)
    assert response.status_code == 400
    assert not response.is_redirect
    assert "text/html" in response.headers["Content-Type"]
    assert reason in response.text


def test_repeated_client_id_is_an_error_page(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    url = f"{base_url}{AUTHORIZE}?client_id=demo-portal&client_id=demo-readonly"
    response = browser.session.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert "repeats the client_id" in response.text


def test_unsupported_response_type_redirects_back_with_state_and_iss(base_url: str) -> None:
    callback = callback_of(SandboxBrowser(base_url).start(response_type="token", state="s 1&2"))
    assert callback.location.startswith(DEMO_REDIRECT + "?")
    assert callback.params["error"] == "unsupported_response_type"
    assert callback.params["state"] == "s 1&2"
    assert callback.params["iss"] == base_url


@pytest.mark.parametrize(
    "scope", ["manage_users", "query_userinfo not_a_scope", "query_userinfo manage_users"]
)
def test_undeclared_scope_redirects_with_invalid_scope(base_url: str, scope: str) -> None:
    callback = callback_of(SandboxBrowser(base_url).start(scope=scope, state="st"))
    assert callback.params["error"] == "invalid_scope"
    assert callback.params["state"] == "st"
    assert callback.params["iss"] == base_url


def test_readonly_client_may_not_ask_for_flight_reports(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    callback = callback_of(browser.start(client_id="demo-readonly", scope="manage_flightreports"))
    assert callback.params["error"] == "invalid_scope"


def test_missing_scope_is_invalid_scope(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    response = browser.session.get(
        base_url + AUTHORIZE,
        params={"response_type": "code", "client_id": "demo-portal", "redirect_uri": DEMO_REDIRECT},
        allow_redirects=False,
        timeout=5,
    )
    assert callback_of(response).params["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "x" * 43}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_pkce_other_than_s256_is_refused(base_url: str, extra: dict[str, str], error: str) -> None:
    callback = callback_of(SandboxBrowser(base_url).start(**extra))
    assert callback.params["error"] == error


def test_repeated_state_is_invalid_request(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    url = (
        f"{base_url}{AUTHORIZE}?response_type=code&client_id=demo-portal&scope=query_userinfo"
        f"&redirect_uri={DEMO_REDIRECT}&state=a&state=b"
    )
    callback = callback_of(browser.session.get(url, allow_redirects=False, timeout=5))
    assert callback.params["error"] == "invalid_request"


def test_sign_in_page_has_labels_and_csrf(base_url: str) -> None:
    page = SandboxBrowser(base_url).start(prompt="consent")
    assert "/sandbox/login" in page.url
    assert '<label for="username">Username</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert "Altitude Angel sandbox" in page.text
    form = forms_of(page.text)[0]
    assert form.fields["csrf_token"]
    assert form.fields["next"].startswith(AUTHORIZE + "?")


def test_wrong_password_stays_on_sign_in(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    page = browser.sign_in(browser.start(), "alice", "not-her-password")
    assert page.status_code == 401
    assert "Wrong username or password" in page.text


def test_sign_in_without_csrf_token_is_refused(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    page = browser.start()
    form = forms_of(page.text)[0]
    data = {**form.fields, "csrf_token": "forged", "username": "alice", "password": "wonderland"}
    response = browser.session.post(base_url + "/sandbox/login", data=data, timeout=5)
    assert response.status_code == 400
    assert "You are not signed in" in browser.get("/sandbox/").text


def test_sign_in_never_redirects_off_the_authorize_path(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    page = browser.get("/sandbox/login", next="https://evil.example/oauth/v2/authorize?x=1")
    response = browser.submit(page, username="alice", password="wonderland")
    assert urlsplit(response.url).netloc == urlsplit(base_url).netloc
    assert urlsplit(response.url).path == "/sandbox/"


def test_consent_page_names_client_and_scopes_then_allow_gives_code(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    page = browser.sign_in(browser.start(prompt="consent"), "alice", "wonderland")
    assert "Demo Portal" in page.text
    assert "Create, read and complete your flight reports" in page.text
    assert "Read your profile" in page.text
    assert {"allow", "deny"} <= set(forms_of(page.text)[0].buttons)
    callback = callback_of(browser.submit(page, button="allow"))
    assert callback.params["state"] == "state-123"
    assert callback.params["iss"] == base_url
    assert len(callback.code) >= 32


def test_deny_redirects_with_access_denied(base_url: str) -> None:
    callback = SandboxBrowser(base_url).authorize(decision="deny", prompt="consent", state="d1")
    assert callback.params["error"] == "access_denied"
    assert callback.params["state"] == "d1"
    assert callback.params["iss"] == base_url
    assert "code" not in callback.params


def test_consent_post_without_csrf_is_refused(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    page = browser.sign_in(browser.start(prompt="consent"), "alice", "wonderland")
    form = next(f for f in forms_of(page.text) if "allow" in f.buttons)
    response = browser.session.post(
        base_url + form.action.replace("&amp;", "&"), data={"allow": "Allow"}, allow_redirects=False
    )
    assert response.status_code == 400
    assert not response.is_redirect


def test_remembered_consent_redirects_at_once_and_prompt_consent_asks_again(
    alice_browser: SandboxBrowser,
) -> None:
    quick = alice_browser.start(scope="query_userinfo", state="again")
    assert callback_of(quick).params["state"] == "again"
    asked = alice_browser.start(scope="query_userinfo", prompt="consent")
    assert not asked.is_redirect
    assert "allow" in forms_of(asked.text)[0].buttons


def test_consent_to_more_scopes_asks_again(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    browser.authorize(username="bob", client_id="demo-readonly", scope="query_userinfo")
    wider = browser.start(client_id="demo-readonly", scope="query_userinfo query_mapdata")
    assert not wider.is_redirect
    assert "Read ground points of interest" in wider.text


def test_sign_out_then_sign_in_as_someone_else(base_url: str) -> None:
    browser = SandboxBrowser(base_url)
    browser.authorize(username="alice", scope=ALL_SCOPES)
    home = browser.get("/sandbox/")
    assert "signed in to the sandbox as <strong>alice" in home.text
    signed_out = browser.submit(home)
    assert "You are not signed in" in signed_out.text
    page = browser.start(prompt="consent")
    assert "/sandbox/login" in page.url
    consent = browser.sign_in(page, "bob", "builder")
    assert "signed in to the sandbox as <strong>bob" in consent.text


def test_sign_out_requires_csrf(alice_browser: SandboxBrowser) -> None:
    response = alice_browser.session.post(alice_browser.base_url + "/sandbox/logout", timeout=5)
    assert response.status_code == 400
    assert "alice" in alice_browser.get("/sandbox/").text

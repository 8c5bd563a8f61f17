"""RP-Initiated Logout: confirm, sign out or stay, and never redirect to an unregistered URI."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tests.sandbox.conftest import ALL_SCOPES, EXTRA_SIGNED_OUT, fresh_login
from tests.sandbox.flow import SandboxBrowser, forms_of
from tests.sandbox.oauth import metric
from tests.services import ServiceProcess

LOGOUT = "/oauth/v2/logout"
SIGNED_OUT = "http://127.0.0.1:5000/signed-out"


def signed_in(base_url: str, username: str = "alice") -> SandboxBrowser:
    browser = SandboxBrowser(base_url)
    browser.authorize(username=username, scope=ALL_SCOPES)
    return browser


def logout(browser: SandboxBrowser, **params: str) -> requests.Response:
    defaults = {"client_id": "demo-portal", "post_logout_redirect_uri": SIGNED_OUT}
    return browser.get(LOGOUT, **{**defaults, **params})


def still_signed_in(browser: SandboxBrowser) -> bool:
    return "signed in to the sandbox as" in browser.get("/sandbox/").text


def query_of(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def test_metadata_names_the_end_session_endpoint(base_url: str) -> None:
    metadata = requests.get(base_url + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert metadata["end_session_endpoint"] == base_url + LOGOUT


def test_signed_in_user_confirms_then_is_signed_out_and_sent_back(base_url: str) -> None:
    browser = signed_in(base_url)
    page = logout(browser, state="s 1&2")
    assert page.status_code == 200
    assert "Sign out of Altitude Angel?" in page.text
    assert "<strong>alice</strong>" in page.text
    assert "Demo Portal" in page.text
    form = forms_of(page.text)[0]
    assert form.fields["csrf_token"]
    assert set(form.buttons) == {"sign_out", "stay"}
    assert form.buttons["stay"] == "Stay signed in"
    response = browser.submit(page, button="sign_out")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(SIGNED_OUT + "?")
    assert query_of(response.headers["Location"]) == {"state": "s 1&2"}
    assert "aa_sandbox_session" not in browser.session.cookies
    assert not still_signed_in(browser)
    # The next authorization asks for the password again.
    assert "/sandbox/login" in browser.start(scope="query_userinfo").url


def test_stay_signed_in_links_back_without_state(base_url: str) -> None:
    browser = signed_in(base_url)
    page = browser.submit(logout(browser, state="keep-out-of-it"), button="stay")
    assert page.status_code == 200
    assert not page.is_redirect
    assert "still signed in" in page.text
    assert f'<a href="{SIGNED_OUT}">' in page.text
    assert "keep-out-of-it" not in page.text
    assert still_signed_in(browser)


def test_nobody_signed_in_is_sent_straight_back_with_state(base_url: str) -> None:
    response = logout(SandboxBrowser(base_url), state="abc")
    assert response.status_code == 303
    assert response.headers["Location"] == SIGNED_OUT + "?state=abc"
    bare = logout(SandboxBrowser(base_url))
    assert bare.headers["Location"] == SIGNED_OUT


def test_a_form_post_from_the_client_is_confirmed_too(base_url: str) -> None:
    browser = signed_in(base_url)
    data = {"client_id": "demo-portal", "post_logout_redirect_uri": SIGNED_OUT, "state": "p"}
    page = browser.session.post(base_url + LOGOUT, data=data, allow_redirects=False, timeout=5)
    assert page.status_code == 200
    assert "Sign out of Altitude Angel?" in page.text
    response = browser.submit(page, button="sign_out")
    assert query_of(response.headers["Location"]) == {"state": "p"}


def test_an_access_token_as_hint_names_the_client(base_url: str) -> None:
    browser = signed_in(base_url)
    hint = fresh_login(browser).access_token
    page = browser.get(LOGOUT, id_token_hint=hint, post_logout_redirect_uri=SIGNED_OUT)
    assert "Demo Portal" in page.text
    response = browser.submit(page, button="sign_out")
    assert response.headers["Location"] == SIGNED_OUT


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"client_id": "no-such-client"}, "unknown client_id"),
        ({"post_logout_redirect_uri": "http://127.0.0.1:5000/evil"}, "not registered"),
        ({"post_logout_redirect_uri": SIGNED_OUT + "/"}, "not registered"),
        ({"post_logout_redirect_uri": "http://127.0.0.1:5000/callback"}, "not registered"),
        ({"client_id": "", "state": "x"}, "names no application"),
        ({"client_id": "", "post_logout_redirect_uri": ""}, "names no application"),
        ({"client_id": "", "id_token_hint": "not.a.token"}, "not issued by this server"),
    ],
)
def test_bad_requests_get_an_error_page_and_never_a_redirect(
    base_url: str, params: dict[str, str], reason: str
) -> None:
    for browser in (SandboxBrowser(base_url), signed_in(base_url)):
        response = logout(browser, **params)
        assert response.status_code == 400
        assert not response.is_redirect
        assert "text/html" in response.headers["Content-Type"]
        assert reason in response.text
    assert still_signed_in(browser)


def test_a_hint_for_another_client_is_refused(base_url: str) -> None:
    browser = signed_in(base_url)
    hint = fresh_login(browser).access_token
    response = logout(browser, client_id="demo-readonly", id_token_hint=hint)
    assert response.status_code == 400
    assert still_signed_in(browser)


def test_sign_out_needs_the_csrf_token(base_url: str) -> None:
    browser = signed_in(base_url)
    form = forms_of(logout(browser).text)[0]
    data = {**form.fields, "csrf_token": "forged", "sign_out": "Sign out"}
    response = browser.session.post(base_url + LOGOUT, data=data, allow_redirects=False)
    assert response.status_code == 400
    assert not response.is_redirect
    assert still_signed_in(browser)


def test_admin_registers_a_post_logout_redirect_uri_for_one_client(
    base_url: str, admin_headers: dict[str, str]
) -> None:
    uri = "http://127.0.0.1:61235/signed-out"
    assert logout(SandboxBrowser(base_url), post_logout_redirect_uri=uri).status_code == 400
    response = requests.post(
        base_url + "/_sandbox/redirect-uris",
        headers=admin_headers,
        json={"client_id": "demo-portal", "post_logout_redirect_uri": uri},
        timeout=5,
    )
    assert response.status_code == 201
    assert response.json() == {"client_id": "demo-portal", "post_logout_redirect_uri": uri}
    sent = logout(SandboxBrowser(base_url), post_logout_redirect_uri=uri, state="z")
    assert sent.headers["Location"] == uri + "?state=z"
    other = logout(
        SandboxBrowser(base_url), client_id="demo-readonly", post_logout_redirect_uri=uri
    )
    assert other.status_code == 400
    # Registered as a post-logout URI only: it is no redirect URI for authorization.
    assert SandboxBrowser(base_url).start(redirect_uri=uri).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_id": "demo-portal", "post_logout_redirect_uri": "javascript:x"}, "post_logout"),
        ({"client_id": "demo-portal", "post_logout_redirect_uri": "http://x/o#f"}, "post_logout"),
        ({"client_id": "demo-portal", "post_logout_redirect_uri": 7}, "post_logout"),
        ({"client_id": "nobody", "post_logout_redirect_uri": "http://x/out"}, "client_id"),
    ],
)
def test_post_logout_redirect_uri_registration_validates(
    base_url: str, admin_headers: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = requests.post(
        base_url + "/_sandbox/redirect-uris", headers=admin_headers, json=body, timeout=5
    )
    assert response.status_code == 400
    assert any(name.startswith(field) for name in response.json()["fields"])


def test_extra_post_logout_redirect_uris_from_settings(plain_sandbox: ServiceProcess) -> None:
    response = logout(SandboxBrowser(plain_sandbox.url), post_logout_redirect_uri=EXTRA_SIGNED_OUT)
    assert response.headers["Location"] == EXTRA_SIGNED_OUT


def test_end_session_requests_are_counted(base_url: str) -> None:
    def count(outcome: str) -> float:
        return metric(base_url, "sandbox_end_session_requests_total", outcome=outcome)

    outcomes = ("confirm", "signed_out", "stayed", "not_signed_in", "invalid_request")
    before = {outcome: count(outcome) for outcome in outcomes}
    browser = signed_in(base_url)
    browser.submit(logout(browser), button="stay")
    browser.submit(logout(browser), button="sign_out")
    logout(browser)
    logout(browser, client_id="nobody")
    after = {outcome: count(outcome) for outcome in outcomes}
    assert after == {
        "confirm": before["confirm"] + 2,
        "signed_out": before["signed_out"] + 1,
        "stayed": before["stayed"] + 1,
        "not_signed_in": before["not_signed_in"] + 1,
        "invalid_request": before["invalid_request"] + 1,
    }

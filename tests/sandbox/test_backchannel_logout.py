"""Back-channel logout: a sandbox session that ends sends each of its clients a logout token.

Each test registers clients of its own whose back-channel logout URI is a small HTTP server
here (``LogoutReceiver``), and signs in with a browser of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.sandbox.flow import DEMO_REDIRECT, SandboxBrowser
from tests.sandbox.logout_receiver import LogoutReceiver
from tests.sandbox.oauth import exchange_code, metric, register_client
from tests.services import ADMIN_SECRET, RedisServer, free_port, sandbox_process

ALICE = "aa-user-5f1c2a9e-alice"
EVENT = "http://schemas.openid.net/event/backchannel-logout"
SIGNED_OUT = "http://127.0.0.1:5000/signed-out"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def receivers() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def receiver(stack: ExitStack, **options: Any) -> LogoutReceiver:
    return stack.enter_context(LogoutReceiver(**options))


def openid_client(base_url: str, *uris: str) -> dict[str, Any]:
    """Register a client whose first back-channel logout URI is ``uris[0]``, any more added."""
    fields: dict[str, Any] = {
        "scopes": ["openid", "query_userinfo"],
        "redirect_uris": [DEMO_REDIRECT],
        "post_logout_redirect_uris": [SIGNED_OUT],
    }
    if uris:
        fields["backchannel_logout_uri"] = uris[0]
    client = register_client(base_url, **fields)
    for uri in uris[1:]:
        added = requests.post(
            base_url + "/_sandbox/redirect-uris",
            json={"client_id": client["client_id"], "backchannel_logout_uri": uri},
            headers={"X-Sandbox-Admin": ADMIN_SECRET},
            timeout=5,
        )
        assert added.status_code == 201, added.text
    return client


def sign_in(
    base_url: str, browser: SandboxBrowser, client: dict[str, Any], scope: str = "openid"
) -> dict[str, Any]:
    """Sign in to ``client`` through ``browser``; return the token response."""
    callback = browser.authorize(client_id=client["client_id"], scope=scope, nonce="n")
    response = exchange_code(
        base_url, callback.code, client_id=client["client_id"], secret=client["client_secret"]
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sign_out_at_the_sandbox(browser: SandboxBrowser) -> requests.Response:
    """Press the sandbox's own sign-out button on its home page."""
    page = browser.get("/sandbox/")
    assert "signed in to the sandbox as" in page.text
    response = browser.submit(page)
    assert "signed in to the sandbox as" not in browser.get("/sandbox/").text
    return response


def claims_of(base_url: str, token: str, typ: str | None = None) -> dict[str, Any]:
    jwks = KeySet.import_key_set(
        requests.get(base_url + "/.well-known/jwks.json", timeout=5).json()
    )
    decoded = jwt.decode(token, jwks, algorithms=["RS256"])
    assert decoded.header["kid"] == jwks.keys[0].kid
    if typ is not None:
        assert decoded.header["typ"] == typ
    return dict(decoded.claims)


def test_signing_out_at_the_sandbox_posts_a_logout_token(
    base_url: str, receivers: ExitStack
) -> None:
    client_end = receiver(receivers)
    client = openid_client(base_url, client_end.url)
    browser = SandboxBrowser(base_url)
    id_token = claims_of(base_url, sign_in(base_url, browser, client)["id_token"])
    assert client_end.received == []

    sign_out_at_the_sandbox(browser)
    [post] = client_end.wait_for(1)
    assert post.path == "/backchannel-logout"
    assert post.content_type == FORM
    assert set(post.form) == {"logout_token"}
    claims = claims_of(base_url, post.form["logout_token"][0], typ="logout+jwt")
    assert claims["iss"] == base_url
    assert claims["aud"] == client["client_id"]
    assert claims["sub"] == ALICE == id_token["sub"]
    assert claims["sid"] == id_token["sid"]
    assert claims["events"] == {EVENT: {}}
    assert claims["jti"]
    assert claims["iat"] <= claims["exp"]
    assert "nonce" not in claims


def test_the_end_session_endpoint_posts_one_too(base_url: str, receivers: ExitStack) -> None:
    client_end = receiver(receivers)
    client = openid_client(base_url, client_end.url)
    browser = SandboxBrowser(base_url)
    hint = sign_in(base_url, browser, client)["id_token"]
    page = browser.get("/oauth/v2/logout", id_token_hint=hint, post_logout_redirect_uri=SIGNED_OUT)
    assert client_end.received == []  # asking to confirm ends nothing yet
    response = browser.submit(page, button="sign_out")
    assert response.headers["Location"] == SIGNED_OUT
    [post] = client_end.wait_for(1)
    claims = claims_of(base_url, post.form["logout_token"][0], typ="logout+jwt")
    assert claims["sid"] == claims_of(base_url, hint)["sid"]


def test_only_the_clients_of_the_ended_session_that_got_an_id_token_are_told(
    base_url: str, receivers: ExitStack
) -> None:
    ends = {name: receiver(receivers) for name in ("openid", "oauth_only", "other_browser")}
    clients = {name: openid_client(base_url, end.url) for name, end in ends.items()}
    browser, other = SandboxBrowser(base_url), SandboxBrowser(base_url)
    sign_in(base_url, browser, clients["openid"])
    assert "id_token" not in sign_in(base_url, browser, clients["oauth_only"], "query_userinfo")
    sign_in(base_url, other, clients["other_browser"])

    sign_out_at_the_sandbox(browser)
    ends["openid"].wait_for(1)
    # The page waits for every delivery of the session it ended: none was left to come.
    assert ends["oauth_only"].received == [] and ends["other_browser"].received == []

    sign_out_at_the_sandbox(other)
    ends["other_browser"].wait_for(1)
    assert len(ends["openid"].received) == 1


def test_every_back_channel_uri_gets_a_token_of_its_own(
    base_url: str, receivers: ExitStack
) -> None:
    first, second = receiver(receivers), receiver(receivers)
    client = openid_client(base_url, first.url, second.url)
    browser = SandboxBrowser(base_url)
    sign_in(base_url, browser, client)
    sign_out_at_the_sandbox(browser)
    tokens = [*first.wait_for(1), *second.wait_for(1)]
    jtis = {claims_of(base_url, item.form["logout_token"][0])["jti"] for item in tokens}
    assert len(jtis) == 2


def test_signing_in_again_in_the_same_browser_ends_the_first_session(
    base_url: str, receivers: ExitStack
) -> None:
    client_end = receiver(receivers)
    client = openid_client(base_url, client_end.url)
    browser = SandboxBrowser(base_url)
    first = claims_of(base_url, sign_in(base_url, browser, client)["id_token"])
    page = browser.get("/sandbox/login")
    browser.sign_in(page, "bob", "builder")
    [post] = client_end.wait_for(1)
    claims = claims_of(base_url, post.form["logout_token"][0])
    assert (claims["sub"], claims["sid"]) == (ALICE, first["sid"])


def test_clients_that_fail_or_hang_never_stop_the_sign_out(
    base_url: str, receivers: ExitStack
) -> None:
    failing = receiver(receivers, status=500)
    hanging = receiver(receivers, hang=True)
    healthy = receiver(receivers)
    closed = f"http://127.0.0.1:{free_port()}/backchannel-logout"  # nothing listens there
    client = openid_client(base_url, failing.url, closed, hanging.url, healthy.url)
    browser = SandboxBrowser(base_url)
    sign_in(base_url, browser, client)
    failed_before = metric(base_url, "sandbox_backchannel_logouts_total", outcome="failed")

    response = sign_out_at_the_sandbox(browser)
    assert response.status_code == 200  # the sandbox's home page, signed out
    healthy.wait_for(1)
    failing.wait_for(1)
    hanging.wait_for(1)
    failed = metric(base_url, "sandbox_backchannel_logouts_total", outcome="failed")
    assert failed >= failed_before + 2  # the 500 and the refused connection, at least


def test_a_setting_adds_a_back_channel_uri_to_every_client(
    redis_server: RedisServer, receivers: ExitStack
) -> None:
    client_end = receiver(receivers)
    sandbox = sandbox_process(
        redis_server.url, SANDBOX_EXTRA_BACKCHANNEL_LOGOUT_URIS=client_end.url
    ).start()
    try:
        browser = SandboxBrowser(sandbox.url)
        callback = browser.authorize(scope="openid query_userinfo")
        assert "id_token" in exchange_code(sandbox.url, callback.code).json()
        sign_out_at_the_sandbox(browser)
        [post] = client_end.wait_for(1)
        assert claims_of(sandbox.url, post.form["logout_token"][0])["aud"] == "demo-portal"
    finally:
        sandbox.stop()

"""Back-channel logout: the provider's logout token ends the logins it names, on every host.

The logout tokens are signed here, by the stand-in provider (tests/extension/openid_standin.py),
with the keys it serves over HTTP, so that they can be wrong on purpose; the sandbox posting its
own is in test_openid_sandbox.py. Two apps on one redis-server stand for two hosts; CSRFProtect
guards both, bound before or after the extension.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc.jwk import RSAKey

from flask_altitudeangel import signals
from tests import peek
from tests.extension.openid_host import host, sign_in
from tests.extension.openid_standin import StandInProvider
from tests.services import RedisServer

LOGOUT = "/auth/backchannel-logout"


@pytest.fixture(params=["before", "after"])
def hosts(
    request: pytest.FixtureRequest, provider: StandInProvider, redis_server: RedisServer
) -> tuple[Flask, Flask]:
    """Two hosts of one app, CSRFProtect bound before (or after) the extension.

    Their database starts empty: logins other modules' tests left there (test_id_tokens.py
    signs alice in with the same sids) would be ended too, and counted.
    """
    redis_server.client(6).flushdb()
    return host(provider, redis_server, request.param), host(provider, redis_server, request.param)


def signed_in(app: Flask, provider: StandInProvider, sub: str, sid: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, provider, sub, sid).status_code == 303
    return client


def still_signed_in(client: FlaskClient) -> bool:
    return client.get("/me").status_code == 200


def revoked(provider: StandInProvider, refresh_token: str | None) -> bool:
    """Wait for a revocation made in the background; tell whether it came."""
    deadline = time.monotonic() + 10
    while refresh_token not in provider.revoked and time.monotonic() < deadline:
        time.sleep(0.05)
    return refresh_token in provider.revoked


@pytest.fixture
def ended(hosts: tuple[Flask, Flask]) -> Iterator[list[dict[str, Any]]]:
    """What ``signed_out`` tells, on the host the provider posts to."""
    heard: list[dict[str, Any]] = []
    with signals.signed_out.connected_to(lambda _, **sent: heard.append(sent), hosts[1]):
        yield heard


def test_a_logout_token_ends_every_login_of_its_session_on_every_host(
    hosts: tuple[Flask, Flask], provider: StandInProvider, ended: list[dict[str, Any]]
) -> None:
    here, there = hosts
    this_browser = signed_in(here, provider, "alice", "sid-1")
    same_session_elsewhere = signed_in(there, provider, "alice", "sid-1")
    other_browser = signed_in(here, provider, "alice", "sid-2")
    other_user = signed_in(there, provider, "bob", "sid-3")
    tokens = [peek.stored_token(c) for c in (this_browser, same_session_elsewhere)]
    login_ids = sorted(str(peek.login_id(c)) for c in (this_browser, same_session_elsewhere))

    answer = there.test_client().post(LOGOUT, data={"logout_token": provider.logout_token(
        sub="alice", sid="sid-1"
    )})  # fmt: skip
    assert answer.status_code == 200, answer.text  # no CSRF token: the route is exempt
    assert answer.headers["Cache-Control"] == "no-store"

    assert not still_signed_in(this_browser) and peek.login_id(this_browser) is None
    assert not still_signed_in(same_session_elsewhere)
    assert still_signed_in(other_browser) and still_signed_in(other_user)
    assert all(token is not None and revoked(provider, token.refresh_token) for token in tokens)
    assert sorted(e["login_id"] for e in ended) == login_ids
    assert {e["reason"] for e in ended} == {"backchannel_logout"}


def test_a_logout_token_without_a_session_ends_all_of_its_users_logins(
    hosts: tuple[Flask, Flask], provider: StandInProvider
) -> None:
    here, there = hosts
    browsers = [signed_in(here, provider, "alice", sid) for sid in ("sid-1", "sid-2")]
    other_user = signed_in(here, provider, "bob", "sid-3")
    token = provider.logout_token(sub="alice")
    assert there.test_client().post(LOGOUT, data={"logout_token": token}).status_code == 200
    assert not any(still_signed_in(browser) for browser in browsers)
    assert still_signed_in(other_user)


def test_a_logout_token_of_another_user_in_that_session_ends_nothing(
    hosts: tuple[Flask, Flask], provider: StandInProvider
) -> None:
    here, there = hosts
    browser = signed_in(here, provider, "alice", "sid-1")
    token = provider.logout_token(sub="bob", sid="sid-1")
    assert there.test_client().post(LOGOUT, data={"logout_token": token}).status_code == 200
    assert still_signed_in(browser)


def foreign_key(provider: StandInProvider) -> str:
    claims = json.loads(_payload(provider.logout_token(sid="sid-1")))
    return jws.serialize_compact(
        {"alg": "RS256", "kid": "key-1"}, json.dumps(claims), RSAKey.generate_key(2048), ["RS256"]
    )


def unsigned(provider: StandInProvider) -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    return head + "." + provider.logout_token(sid="sid-1").split(".")[1] + "."


def _payload(token: str) -> bytes:
    body = token.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def an_id_token(provider: StandInProvider) -> str:
    return provider.issued_id_tokens[-1]  # signed, for this client, but no logout token


def logout_token(**claims: Any) -> Callable[[StandInProvider], str]:
    return lambda provider: provider.logout_token(**{"sub": "alice", "sid": "sid-1", **claims})


NOW = int(time.time())
EVENT = "http://schemas.openid.net/event/backchannel-logout"
BAD_TOKENS: list[tuple[str, Callable[[StandInProvider], str], str]] = [
    ("signed by another key", foreign_key, "signature"),
    ("not signed, alg none", unsigned, "algorithm"),
    ("not a JWT", lambda provider: "not-a-token", "malformed"),
    ("an ID token", an_id_token, "events"),
    ("of another issuer", logout_token(iss="https://evil.example"), "issuer"),
    ("for another client", logout_token(aud="another-client"), "audience"),
    ("issued an hour ago", logout_token(iat=NOW - 3600, exp=None), "iat"),
    ("issued in the future", logout_token(iat=NOW + 3600), "iat"),
    ("without iat", logout_token(iat=None), "iat"),
    ("expired", logout_token(exp=NOW - 600), "expired"),
    ("without the event", logout_token(events=None), "events"),
    ("of another event", logout_token(events={"http://example.com/event": {}}), "events"),
    ("the event not an object", logout_token(events={EVENT: "yes"}), "events"),
    ("with a nonce", logout_token(nonce="n" * 22), "nonce"),
    ("without a jti", logout_token(jti=None), "jti"),
    ("neither sub nor sid", logout_token(sub=None, sid=None), "sub_or_sid"),
    ("a sid that is not a string", logout_token(sid=1), "sub_or_sid"),
    ("typed as an access token", lambda p: p.sign({"iss": p.url}, {"typ": "at+jwt"}), "typ"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "check"), BAD_TOKENS, ids=[c for c, _, _ in BAD_TOKENS])
def test_a_bad_logout_token_is_a_400_and_changes_nothing(
    hosts: tuple[Flask, Flask],
    provider: StandInProvider,
    ended: list[dict[str, Any]],
    case: str,
    make: Callable[[StandInProvider], str],
    check: str,
) -> None:
    here, there = hosts
    browser = signed_in(here, provider, "alice", "sid-1")
    answer = there.test_client().post(LOGOUT, data={"logout_token": make(provider)})
    assert answer.status_code == 400
    assert answer.get_json() == {
        "error": "invalid_request",
        "error_description": f"logout token: {check}",
    }
    assert still_signed_in(browser) and provider.revoked == [] and ended == []


@pytest.mark.parametrize("form", [{}, {"logout_token": ["a.b.c", "a.b.c"]}], ids=["none", "two"])
def test_a_request_without_exactly_one_logout_token_is_a_400(
    hosts: tuple[Flask, Flask], form: dict[str, Any]
) -> None:
    answer = hosts[1].test_client().post(LOGOUT, data=form)
    assert answer.status_code == 400
    assert answer.get_json()["error_description"] == "logout token: logout_token"


def test_a_logout_token_sent_again_is_refused(
    hosts: tuple[Flask, Flask], provider: StandInProvider
) -> None:
    here, there = hosts
    signed_in(here, provider, "alice", "sid-1")
    token = provider.logout_token(sub="alice", sid="sid-1")
    assert there.test_client().post(LOGOUT, data={"logout_token": token}).status_code == 200
    browser = signed_in(here, provider, "alice", "sid-1")  # the same session, signed in anew
    replayed = here.test_client().post(LOGOUT, data={"logout_token": token})
    assert replayed.status_code == 400
    assert replayed.get_json()["error_description"] == "logout token: jti"
    assert still_signed_in(browser)


def test_the_hosts_other_forms_still_need_their_csrf_token(hosts: tuple[Flask, Flask]) -> None:
    assert hosts[0].test_client().post("/auth/logout").status_code == 400  # CSRFProtect's

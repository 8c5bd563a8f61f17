"""Refresh tokens rotate on every use; a reused one revokes its whole login at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.sandbox.conftest import Login
from tests.sandbox.flow import READONLY_CLIENT, READONLY_SECRET
from tests.sandbox.oauth import api, refresh, token_request


def test_refresh_rotates_and_keeps_the_scope(base_url: str, alice: Login) -> None:
    response = refresh(base_url, alice.refresh_token)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["refresh_token"] != alice.refresh_token
    assert body["access_token"] != alice.access_token
    assert body["scope"] == alice.scope
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert api(base_url, "GET", "/userProfile", body["access_token"]).status_code == 200
    # The access token of before the refresh stays valid until it expires.
    assert api(base_url, "GET", "/userProfile", alice.access_token).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(base_url: str, alice: Login) -> None:
    second = refresh(base_url, alice.refresh_token).json()
    reuse = refresh(base_url, alice.refresh_token)
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    for token in (alice.access_token, second["access_token"]):
        dead = api(base_url, "GET", "/userProfile", token)
        assert dead.status_code == 401
        assert 'error="invalid_token"' in dead.headers["WWW-Authenticate"]
    assert refresh(base_url, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_reuse_does_not_touch_other_logins(base_url: str, alice: Login, bob: Login) -> None:
    refresh(base_url, alice.refresh_token)
    refresh(base_url, alice.refresh_token)
    assert api(base_url, "GET", "/userProfile", bob.access_token).status_code == 200
    assert refresh(base_url, bob.refresh_token).status_code == 200


def test_concurrent_refreshes_with_one_token_let_exactly_one_win(
    base_url: str, alice: Login
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: refresh(base_url, alice.refresh_token), range(8)))
    assert sorted(r.status_code for r in responses) == [200] + [400] * 7
    winner = next(r.json() for r in responses if r.status_code == 200)
    # The losers were reuses, so the whole family, the winner included, is revoked.
    assert api(base_url, "GET", "/userProfile", winner["access_token"]).status_code == 401


def test_refresh_may_narrow_the_scope_but_never_widen_it(base_url: str, alice: Login) -> None:
    narrow = refresh(base_url, alice.refresh_token, scope="query_userinfo")
    assert narrow.status_code == 200
    body = narrow.json()
    assert body["scope"] == "query_userinfo"
    flights = api(base_url, "GET", "/flightReport", body["access_token"])
    assert flights.status_code == 401
    # The new refresh token still carries everything the user granted.
    full = refresh(base_url, body["refresh_token"]).json()
    assert set(full["scope"].split()) == set(alice.scope.split())

    wider = refresh(base_url, full["refresh_token"], scope="query_userinfo talk_tower")
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


def test_refresh_token_is_bound_to_its_client(base_url: str, alice: Login) -> None:
    data = {"grant_type": "refresh_token", "refresh_token": alice.refresh_token}
    other = token_request(base_url, data, READONLY_CLIENT, READONLY_SECRET)
    assert other.status_code == 400
    assert other.json()["error"] == "invalid_grant"
    # A refusal for the wrong client does not burn the token.
    assert refresh(base_url, alice.refresh_token).status_code == 200


def test_unknown_or_missing_refresh_token(base_url: str) -> None:
    assert refresh(base_url, "nope").json()["error"] == "invalid_grant"
    missing = token_request(base_url, {"grant_type": "refresh_token"})
    assert missing.json()["error"] == "invalid_request"

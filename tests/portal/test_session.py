"""Sessions and cookies (security checklist, section B) and the never-unpickle rule (D.29)."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest
import requests
from flask import Flask, Response, session
from flask.testing import FlaskClient

from app import create_app
from portal.sessions import session_key
from tests import peek
from tests.oauth_driver import SandboxUser
from tests.portal.conftest import REDIRECT_URI, SignIn, app_environment, sandbox_counter
from tests.services import RedisServer, ServiceProcess

COOKIE = "portal_session"
PREFIX = "portal:session:"


def session_id(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def stored_tokens(client: FlaskClient) -> object:
    return peek.stored_token(client)


def test_sign_in_issues_a_new_session_id_whatever_was_planted(
    client: FlaskClient, sign_in: SignIn, redis_server: RedisServer
) -> None:
    client.set_cookie(COOKIE, "planted-by-an-attacker")
    sign_in(client)
    assert session_id(client) not in (None, "planted-by-an-attacker")
    assert not redis_server.client().exists(session_key(PREFIX, "planted-by-an-attacker"))


def test_an_old_signed_in_session_id_is_deleted_by_a_new_sign_in(
    client: FlaskClient, sign_in: SignIn, redis_server: RedisServer
) -> None:
    sign_in(client)
    first = session_id(client)
    sign_in(client, "bob")
    assert session_id(client) != first
    assert not redis_server.client().exists(session_key(PREFIX, first or ""))


def test_an_unknown_session_id_is_ignored_and_nothing_is_written(
    client: FlaskClient, redis_server: RedisServer
) -> None:
    client.set_cookie(COOKIE, "attacker-chosen-session-id")
    keys_before = set(redis_server.client().keys())
    for path in ("/", "/flight-reports", "/flight-reports/new", "/profile", "/signed-out"):
        response = client.get(path)
        # The signed-out page may bind its end-session link to this browser; no session.
        assert COOKIE not in response.headers.get("Set-Cookie", ""), path
    # No key added; earlier tests' keys may expire meanwhile in the shared Redis.
    assert set(redis_server.client().keys()) <= keys_before


def test_the_session_cookie_is_locked_down(client: FlaskClient, sign_in: SignIn) -> None:
    cookies = sign_in(client).headers.getlist("Set-Cookie")
    cookie = next(c for c in cookies if c.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback


def test_over_https_every_cookie_is_secure_with_the_host_prefix(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    app = create_app(app_environment(redis_server, sandbox, SESSION_COOKIE_SECURE="1"))
    client = app.test_client()
    started = client.get("/login", base_url="https://localhost:5000")
    attempt = started.headers["Set-Cookie"]
    assert attempt.startswith("__Host-aa_signin_")
    assert "Secure" in attempt and "Domain" not in attempt and "Path=/" in attempt
    callback = SandboxUser("alice", "wonderland").authorize(
        started.headers["Location"], REDIRECT_URI
    )
    finished = client.get(callback.replace("http://", "https://"))
    cookies = finished.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-portal_session="))
    assert "Secure" in session_cookie and "Domain" not in session_cookie
    spent = next(c for c in cookies if c.startswith("__Host-aa_signin_"))
    assert "Secure" in spent  # a browser ignores a __Host- cookie's expiry without it
    assert "Max-Age=0" in spent or "Expires=Thu, 01 Jan 1970" in spent


@pytest.mark.parametrize("limit", ["SESSION_IDLE_TIMEOUT", "SESSION_ABSOLUTE_TIMEOUT"])
def test_a_session_past_its_limit_must_sign_in_again(
    redis_server: RedisServer, sandbox: ServiceProcess, sign_in: SignIn, limit: str
) -> None:
    app = create_app(app_environment(redis_server, sandbox, **{limit: "60"}))
    client = app.test_client()
    sign_in(client)
    assert client.get("/profile").status_code == 200
    with client.session_transaction() as session:
        session["altitudeangel"] = {
            **session["altitudeangel"],
            "at": session["altitudeangel"]["at"] - 3600,
            "seen": session["altitudeangel"]["seen"] - 3600,
        }
    response = client.get("/profile")
    assert response.status_code == 401
    assert stored_tokens(client) is None


def test_sign_out_revokes_deletes_and_kills_the_old_cookie(
    client: FlaskClient, sign_in: SignIn, sandbox: ServiceProcess, redis_server: RedisServer
) -> None:
    sign_in(client)
    token = stored_tokens(client)
    old_sid = session_id(client)
    page = client.get("/flight-reports")
    csrf_field = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    response = client.post("/logout", data={"csrf_token": csrf_field})
    assert response.status_code == 303
    assert any(c.startswith(f"{COOKIE}=;") for c in response.headers.getlist("Set-Cookie"))
    assert not redis_server.client().exists(session_key(PREFIX, old_sid or ""))
    refused = requests.post(
        sandbox.url + "/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token.refresh_token,  # type: ignore[attr-defined]
            "client_id": "demo-portal",
            "client_secret": "demo+portal/secret=&%?#2026",
        },
        timeout=5,
    )
    assert refused.json()["error"] == "invalid_grant"
    client.set_cookie(COOKIE, old_sid or "")
    assert client.get("/profile").status_code == 401


def test_sign_out_still_works_when_revocation_hangs(
    client: FlaskClient, sign_in: SignIn, faults: object, redis_server: RedisServer
) -> None:
    sign_in(client)
    page = client.get("/flight-reports")
    csrf_field = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    faults("revoke", "hang", seconds=8)  # type: ignore[operator]
    started = time.monotonic()
    response = client.post("/logout", data={"csrf_token": csrf_field})
    assert response.status_code == 303
    assert time.monotonic() - started < 7
    assert stored_tokens(client) is None
    assert client.get("/profile").status_code == 401


def test_sign_out_without_the_csrf_token_changes_nothing(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client)
    response = client.post("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 400
    assert stored_tokens(client) is not None
    assert client.get("/profile").status_code == 200


def test_completing_a_report_needs_the_csrf_token(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(client)
    response = client.post("/flight-reports/anything/complete")
    assert response.status_code == 400


def test_a_pickled_session_is_never_unpickled(
    portal_app: Flask, redis_server: RedisServer, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    redis_server.client().set(session_key(PREFIX, "planted"), pickle.dumps(Exploit()))
    client = portal_app.test_client()
    client.set_cookie(COOKIE, "planted")
    response = client.get("/profile")
    assert response.status_code == 401  # an unreadable session is no session
    assert not marker.exists()


def test_revocation_is_counted_at_the_server(
    client: FlaskClient, sign_in: SignIn, sandbox: ServiceProcess
) -> None:
    sign_in(client)
    page = client.get("/flight-reports")
    csrf_field = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    before = sandbox_counter(sandbox, "sandbox_revocations_total")
    client.post("/logout", data={"csrf_token": csrf_field})
    assert sandbox_counter(sandbox, "sandbox_revocations_total") == before + 1


def write_and_read_counts(redis: RedisServer) -> tuple[int, int]:
    stats = redis.client().info("commandstats")
    writes = sum(v["calls"] for k, v in stats.items() if k.split("_")[-1] in WRITES)
    reads = sum(v["calls"] for k, v in stats.items() if k.split("_")[-1] in READS)
    return writes, reads


WRITES = {"set", "hset", "del", "expire", "rpush", "ltrim", "eval", "evalsha", "exec"}
READS = {"get", "hget", "hmget", "lrange", "exists"}


def test_a_signed_in_page_view_reads_redis_twice_and_writes_nothing(
    sandbox: ServiceProcess, sign_in: SignIn
) -> None:
    own = RedisServer().start()
    try:
        app = create_app(app_environment(own, sandbox, FLOW_TRACE="0"))
        client = app.test_client()
        sign_in(client)
        before = write_and_read_counts(own)
        for _ in range(5):  # the first view after sign-in included
            assert client.get("/flight-reports").status_code == 200
        writes, reads = (a - b for a, b in zip(write_and_read_counts(own), before, strict=True))
        assert writes == 0
        assert reads == 5 * 2  # the session, and the tokens
    finally:
        own.cleanup()


def test_a_read_of_redis_yields_no_working_session_cookie(
    client: FlaskClient, sign_in: SignIn, redis_server: RedisServer
) -> None:
    sign_in(client)
    sid = session_id(client)
    assert sid and client.get("/profile").status_code == 200
    db = redis_server.client()
    keys = [key.decode() for key in db.scan_iter(PREFIX + "*")]  # other tests' too
    assert session_key(PREFIX, sid) in keys
    assert not any(sid in key or sid.encode() in (db.get(key) or b"") for key in keys)
    thief = client.application.test_client()
    for key in keys:  # what a dump, replica or backup shows, tried as a cookie
        for value in (key, key.removeprefix(PREFIX)):
            thief.set_cookie(COOKIE, value)
            assert thief.get("/profile").status_code == 401


def test_pages_that_write_no_session_still_vary_on_the_cookie(
    portal_app: Flask, sign_in: SignIn, redis_server: RedisServer
) -> None:
    @portal_app.get("/varied")
    def varied() -> Response:
        answer = Response(str(session.get("altitudeangel", {}).get("name")))
        answer.vary.add("Accept-Encoding")
        return answer

    client = portal_app.test_client()
    sign_in(client)
    client.get("/flight-reports")  # a page's first view after the sign-in may write
    db = redis_server.client()
    sessions = {key: (db.get(key), db.ttl(key)) for key in db.keys("portal:session:*")}
    assert sessions
    page = client.get("/flight-reports")
    assert page.headers.getlist("Vary") == ["Cookie"]
    assert "Set-Cookie" not in page.headers
    assert client.get("/varied").headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    after = {key: (db.get(key), db.ttl(key)) for key in db.keys("portal:session:*")}
    assert after.keys() == sessions.keys()
    for key, (value, ttl) in after.items():  # not written again: the same, expiring no later
        assert value == sessions[key][0]
        assert ttl <= sessions[key][1]

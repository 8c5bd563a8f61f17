"""What every token storage promises the lifecycle, checked on the Redis store and on a dict.

The same tests run against ``RedisTokenStore`` (a real redis-server) and against
``tests/extension/memory_storage.py``: the protocol in ``flask_altitudeangel.storage`` is all
either needs to keep, and all the lifecycle leans on.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from flask_altitudeangel import Cipher
from flask_altitudeangel._tokens.single_flight import SingleFlight, keep_alive
from flask_altitudeangel.storage import ClientToken, RedisTokenStore, TokenStorage, UserToken
from tests.extension.memory_storage import MemoryStorage
from tests.services import RedisServer

PREFIXES = (f"contract{n}:" for n in itertools.count())
TTL = 0.6  # seconds a lock lives unless extended


@pytest.fixture(params=["redis", "memory"])
def storage(request: pytest.FixtureRequest, redis_server: RedisServer) -> Iterator[TokenStorage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    client = redis_server.client(db=5)
    yield RedisTokenStore(client, Cipher((), "contract-secret-" + "k" * 32), next(PREFIXES))
    client.close()


def token(access: str = "at-1", refresh: str | None = "rt-1") -> UserToken:
    now = int(time.time())
    return UserToken(access, refresh, "query_userinfo", now + 900, 900, now)


def created(storage: TokenStorage, login_id: str = "login-a", idle: int | None = None) -> UserToken:
    now = int(time.time())
    return storage.create(login_id, token(), idle or now + 600, now + 3600)


def test_create_stores_version_one_and_get_hands_it_back(storage: TokenStorage) -> None:
    saved = created(storage)
    assert saved.version == 1
    assert storage.get("login-a") == saved
    assert storage.get("someone-else") is None


def test_compare_and_set_saves_only_over_the_version_read(storage: TokenStorage) -> None:
    first = created(storage)
    newer = storage.compare_and_set("login-a", first.version, token("at-2", "rt-2"))
    assert newer is not None and newer.version == 2
    assert storage.compare_and_set("login-a", first.version, token("at-3", "rt-3")) is None
    assert storage.get("login-a") == newer


def test_of_many_threads_saving_over_one_version_exactly_one_wins(storage: TokenStorage) -> None:
    first = created(storage)
    start = threading.Barrier(8)

    def save(n: int) -> UserToken | None:
        start.wait()
        return storage.compare_and_set("login-a", first.version, token(f"at-{n}", f"rt-{n}"))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(save, range(8)))
    winners = [saved for saved in results if saved is not None]
    assert len(winners) == 1
    assert storage.get("login-a") == winners[0]


def test_clear_hands_back_what_it_forgot_and_refuses_later_saves(storage: TokenStorage) -> None:
    first = created(storage)
    saved = storage.compare_and_set("login-a", first.version, token("at-2", "rt-2"))
    assert storage.clear("login-a") == saved
    assert storage.get("login-a") is None
    assert storage.compare_and_set("login-a", 2, token("at-3", "rt-3")) is None
    assert storage.get("login-a") is None
    assert storage.clear("login-a") is None


def test_the_idle_index_lists_logins_by_deadline_until_they_are_cleared(
    storage: TokenStorage,
) -> None:
    now = int(time.time())
    for login_id, deadline in (("late", now + 60), ("early", now - 20), ("mid", now - 10)):
        created(storage, login_id, deadline)
    assert storage.idle_logins(now) == ["early", "mid"]
    storage.seen("early", now + 120)  # used again: no longer idle
    assert storage.idle_logins(now) == ["mid"]
    assert storage.idle_logins(now + 200, limit=2) == ["mid", "late"]
    storage.clear("mid")
    assert storage.idle_logins(now + 200) == ["late", "early"]


def test_a_lock_has_one_holder_at_a_time_and_expires_on_its_own(storage: TokenStorage) -> None:
    first, second = storage.lock("login-a", TTL), storage.lock("login-a", TTL)
    assert first.acquire() and first.held()
    assert not second.acquire()
    assert storage.lock("login-b", TTL).acquire()  # each name is its own lock
    second.release()  # not its holder: changes nothing
    assert first.held()
    time.sleep(TTL + 0.3)  # the holder died, say: nobody extended it
    assert not first.held()
    assert not first.extend()  # lost, and extending cannot take it back
    assert second.acquire()
    first.release()  # no longer its holder either
    assert second.held()


def test_keep_alive_holds_a_lock_past_its_ttl_while_the_work_runs(storage: TokenStorage) -> None:
    holder, other = storage.lock("login-a", TTL), storage.lock("login-a", TTL)
    assert holder.acquire()
    with keep_alive(holder, TTL):
        deadline = time.monotonic() + 3 * TTL
        while time.monotonic() < deadline:
            assert not other.acquire()
            time.sleep(TTL / 4)
    holder.release()
    assert other.acquire()


def test_single_flight_runs_the_work_once_and_the_rest_wait_for_what_it_saved(
    storage: TokenStorage,
) -> None:
    flight = SingleFlight(storage, TTL, wait=30)
    calls: list[int] = []
    saved: list[str] = []
    start = threading.Barrier(6)

    def work() -> str:
        calls.append(1)
        time.sleep(2 * TTL)  # slower than the lock lives: the keep-alive must hold it
        saved.append("new")
        return "new"

    def request(_: int) -> tuple[str, bool]:
        start.wait()
        return flight.run("login-a", work, lambda: saved[0] if saved else None)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(request, range(6)))
    assert len(calls) == 1
    assert sorted(results) == [("new", False)] * 5 + [("new", True)]
    assert not storage.lock("login-a", TTL).held()


def test_waiters_stop_when_the_holder_gives_up_without_saving(storage: TokenStorage) -> None:
    from flask_altitudeangel import AuthServerUnavailable

    flight = SingleFlight(storage, TTL, wait=30)
    holder = storage.lock("login-a", TTL)
    assert holder.acquire()
    threading.Timer(0.2, holder.release).start()
    started = time.monotonic()
    with pytest.raises(AuthServerUnavailable):
        flight.run("login-a", lambda: "never", lambda: None)
    assert time.monotonic() - started < 10  # not the whole 30 s wait


def test_the_client_token_is_kept_and_discarded_only_if_still_the_same(
    storage: TokenStorage,
) -> None:
    assert storage.client_token() is None
    kept = ClientToken("client-at-1", time.time() + 300, 300)
    storage.save_client_token(kept)
    assert storage.client_token() == kept
    storage.discard_client_token("client-at-0")  # an older one: this one stays
    assert storage.client_token() == kept
    storage.discard_client_token("client-at-1")
    assert storage.client_token() is None


def test_a_login_is_kept_no_longer_than_it_was_created_for(storage: TokenStorage) -> None:
    now = int(time.time())
    short = replace(token(), obtained_at=now)
    storage.create("login-a", short, now + 600, now + 1)
    time.sleep(2.1)
    assert storage.get("login-a") is None


def test_logins_are_found_by_the_names_they_were_noted_under_until_forgotten(
    storage: TokenStorage,
) -> None:
    now = int(time.time())
    storage.index_login("login-a", ["sid:one", "sub:alice"], now + 3600)
    storage.index_login("login-b", ["sid:two", "sub:alice"], now + 3600)
    storage.index_login("login-c", ["sid:three", "sub:bob"], now + 1)
    assert storage.indexed_logins("sid:one") == ["login-a"]
    assert sorted(storage.indexed_logins("sub:alice")) == ["login-a", "login-b"]
    assert storage.indexed_logins("sub:carol") == []
    assert storage.indexed_logins("sub:bob") == ["login-c"]
    time.sleep(2.1)  # login-c is past the time it was noted for
    assert storage.indexed_logins("sub:bob") == []
    assert storage.indexed_logins("sid:three") == []
    assert sorted(storage.indexed_logins("sub:alice")) == ["login-a", "login-b"]


def test_a_name_is_used_first_once_and_again_only_once_its_time_is_past(
    storage: TokenStorage,
) -> None:
    now = int(time.time())
    assert storage.first_use("logout-jti:x", now + 3600)
    assert not storage.first_use("logout-jti:x", now + 3600)
    assert storage.first_use("logout-jti:y", now + 1)  # each name on its own
    time.sleep(2.1)
    assert storage.first_use("logout-jti:y", now + 3600)
    assert not storage.first_use("logout-jti:x", now + 3600)

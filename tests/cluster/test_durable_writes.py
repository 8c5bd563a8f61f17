"""Durable writes: a rotated token and a refresh lock are on the replica once saved, a save
sent again after a failover is accepted, and a lock outlives an outage shorter than its TTL.

Replication runs through a proxy that holds it back, so a write the primary has acknowledged
is not yet on the replica unless the client waited for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from flask_altitudeangel._crypto import Cipher, derive_key
from flask_altitudeangel._redis import connect
from flask_altitudeangel._tokens.model import UserToken
from flask_altitudeangel._tokens.single_flight import keep_alive
from flask_altitudeangel._tokens.store import ACQUIRE, SAVE, RedisTokenStore
from tests.cluster.redis_sentinel import LocalSentinels
from tests.services import RedisServer

pytestmark = pytest.mark.cluster

DELAY = 0.4  # seconds replication is held back
TOKEN = UserToken("access-1", "refresh-1", "query_userinfo", 2**31, 900, 1)


@pytest.fixture(scope="module")
def slow_replica() -> Iterator[LocalSentinels]:
    sentinels = LocalSentinels(delay=DELAY)
    try:
        yield sentinels.start()
    finally:
        sentinels.cleanup()


def store_on(url: str, timeout: float = 1) -> RedisTokenStore:
    return RedisTokenStore(connect(url, timeout), Cipher([derive_key("test")], ""), "durable:")


def test_a_rotated_token_and_its_lock_are_on_the_replica_once_saved(
    slow_replica: LocalSentinels,
) -> None:
    store = store_on(slow_replica.url)
    replica = slow_replica.node(slow_replica.replica())
    login = f"login-{time.monotonic_ns()}"
    first = store.create(login, TOKEN, 2**31, 2**31)
    assert replica.hget(store.key(login), "v") == "1"

    rotated = store.compare_and_set(login, first.version, replace(TOKEN, refresh_token="r-2"))
    assert rotated is not None
    assert replica.hget(store.key(login), "v") == "2"  # not DELAY seconds later: now
    lock = store.lock(login, 5)
    assert lock.acquire()
    assert replica.exists(store.key(login, "lock")) == 1
    lock.release()


def test_a_save_or_a_lock_sent_again_is_accepted_and_nobody_elses_is(
    slow_replica: LocalSentinels,
) -> None:
    # What a save that reached a primary which died before answering meets when it is sent
    # again: its own write, if the write was passed on before the primary died.
    client = slow_replica.node(slow_replica.primary())
    key = f"durable:login:{{again-{time.monotonic_ns()}}}:tokens"
    assert client.eval(SAVE, 1, key, "", 1, "blob-1", 2**31) == 1
    assert client.eval(SAVE, 1, key, 1, 2, "blob-2", 0) == 1
    assert client.eval(SAVE, 1, key, 1, 2, "blob-2", 0) == 1  # the same save again
    assert client.eval(SAVE, 1, key, 1, 2, "another", 0) == 0  # another from version 1
    assert client.hget(key, "blob") == "blob-2"
    lock = key.replace(":tokens", ":lock")
    assert client.eval(ACQUIRE, 1, lock, "holder-a", 5000) == 1
    assert client.eval(ACQUIRE, 1, lock, "holder-a", 5000) == 1  # the same acquire again
    assert client.eval(ACQUIRE, 1, lock, "holder-b", 5000) == 0


def test_a_rotated_token_saved_while_the_primary_dies_lands_on_the_promoted_replica(
    slow_replica: LocalSentinels,
) -> None:
    store = store_on(slow_replica.url)
    login = f"login-{time.monotonic_ns()}"
    first = store.create(login, TOKEN, 2**31, 2**31)
    slow_replica.wait_in_sync()
    old = slow_replica.kill_primary()
    try:
        # No primary answers until the Sentinels promote the replica: the save waits for it.
        rotated = store.compare_and_set(login, first.version, replace(TOKEN, access_token="a-2"))
        assert rotated is not None and rotated.version == 2
        promoted = slow_replica.node(slow_replica.primary())
        assert promoted.hget(store.key(login), "v") == "2"
        assert store.get(login) == rotated
    finally:
        slow_replica.wait_for_promotion(old)
        slow_replica.rejoin(old)


def test_a_refresh_lock_is_kept_alive_through_an_outage_shorter_than_its_ttl(
    redis_server: RedisServer,
) -> None:
    store = store_on(redis_server.url, timeout=0.3)
    lock = store.lock(f"keeper-{time.monotonic_ns()}", 3)
    assert lock.acquire()
    done = threading.Event()

    def hold() -> None:
        with keep_alive(lock, 3):
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        time.sleep(1.2)  # just after the keeper's first extension
        # Redis stops answering for 1.5 s: the keeper's next extension times out meanwhile.
        sleeper = redis.Redis(port=redis_server.port, socket_timeout=5)
        sleeper.execute_command("DEBUG", "SLEEP", "1.5")
        # Longer than the TTL past anything sent before the outage ended: only an extension
        # after it keeps the lock.
        time.sleep(4)
        assert lock.held()
        assert lock.extend()  # and it is still this holder's
    finally:
        done.set()
        holder.join()
        lock.release()

"""One request at a time anywhere talks to the token endpoint for the same token.

The user's refresh and the app's client-credentials token both go through ``SingleFlight``:
a lock in the storage decides who asks; its holder keeps the lock alive for as long as the
answer takes; everyone else polls, bounded, for what the holder saves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from flask_altitudeangel.errors import AuthServerUnavailable, StorageUnavailable

if TYPE_CHECKING:
    from flask_altitudeangel.storage import StorageLock, TokenStorage

T = TypeVar("T")
# Short polls: a refresh takes a token round trip, and waiters should not oversleep it.
POLL_FIRST, POLL_MAX = 0.005, 0.05
KEEP_TRYING = 0.25  # seconds between two attempts to extend a lock the storage did not answer


class SingleFlight:
    """Run a token request under a storage lock, or wait for whoever is running it."""

    def __init__(self, storage: TokenStorage, ttl: float, wait: float) -> None:
        self._storage = storage
        self._ttl = ttl
        self._wait = wait

    def run(self, name: str, work: Callable[[], T], done: Callable[[], T | None]) -> tuple[T, bool]:
        """Return ``work()`` if this request gets the lock, else what ``done()`` finds in time.

        The second value tells whether this request did the work. ``done`` returns None until
        the holder has saved what it was asked for; it may raise to stop the wait.
        """
        lock = self._storage.lock(name, self._ttl)
        if lock.acquire():
            try:
                with keep_alive(lock, self._ttl):
                    return work(), True
            finally:
                lock.release()
        return self._wait_for(lock, done), False

    def _wait_for(self, lock: StorageLock, done: Callable[[], T | None]) -> T:
        """Poll, with backoff, until the holder saves or the wait runs out."""
        deadline = time.monotonic() + self._wait
        delay = POLL_FIRST
        while time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, POLL_MAX)
            released = not lock.held()
            # Look after the lock: a holder saves before it releases.
            found = done()
            if found is not None:
                return found
            if released:
                break  # the holder gave up without saving (server unavailable)
        raise AuthServerUnavailable("token request still in progress elsewhere", retry_after=1)


@contextmanager
def keep_alive(lock: StorageLock, ttl: float) -> Iterator[None]:
    """Extend ``lock`` while the block runs, however long the token endpoint takes to answer.

    The HTTP timeouts bound each socket read, not the whole answer: a server that sends its
    answer a byte at a time can outlast the lock. Were the lock to expire meanwhile, another
    request would spend the same refresh token, and a server with reuse detection would revoke
    the whole grant. If this process dies, the lock still expires on its own.
    """
    done = threading.Event()

    def extend() -> None:
        pause = ttl / 3
        while not done.wait(pause):
            try:
                if not lock.extend():
                    return  # lost already: nothing left to keep
                pause = ttl / 3
            except StorageUnavailable:
                # Failing over, perhaps: the lock lives on in the replica that is promoted,
                # and must be extended there before it runs out.
                pause = min(ttl / 3, KEEP_TRYING)

    keeper = threading.Thread(target=extend, name="aa-lock-keeper", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()

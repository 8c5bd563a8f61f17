"""Single-flight refresh of user tokens, across threads, workers and hosts.

Per login, one Redis lock (SET NX PX with an owner token) decides who talks to the token
endpoint. The holder re-reads the store (someone may have refreshed already), refreshes, and
saves with a compare-and-set on the version. Everyone else waits, bounded, for the new version
and uses it: a rotating refresh token is spent exactly once.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from flask_altitudeangel._dpop import DPoPKey
from flask_altitudeangel._metrics import LOCK_WAIT_SECONDS, REFRESHES
from flask_altitudeangel._oauth import OAuthClient
from flask_altitudeangel._tokens.store import TokenStore, UserToken, token_from_response
from flask_altitudeangel.errors import AuthServerUnavailable, SignInRequired, TokenRejected
from flask_altitudeangel.records import Refresh, fingerprint

JITTER = 0.2  # refresh up to 20 % earlier than the margin, at random
# Short polls: a refresh takes a token round trip, and waiters should not oversleep it.
POLL_FIRST, POLL_MAX = 0.005, 0.05


class Refresher:
    """Keep a login's access token fresh, refreshing it at most once at a time anywhere."""

    def __init__(
        self,
        store: TokenStore,
        oauth: OAuthClient,
        margin: int,
        wait: float,
        on_refresh: Callable[[str, Refresh], None] | None = None,
    ) -> None:
        self._store = store
        self._oauth = oauth
        self._margin = margin
        self._wait = wait
        self._on_refresh = on_refresh
        self._local = threading.local()  # what this thread's last refresh sent

    def current(self, login_id: str) -> UserToken:
        """Return a token that is not about to expire, refreshing it first if it is."""
        token = self._store.get(login_id)
        if token is None:
            raise SignInRequired()
        # Spreading refreshes out needs no cryptographic randomness.
        jitter = random.uniform(0, JITTER)  # nosec B311
        if token.needs_refresh(time.time(), self._margin, jitter):
            return self.refresh(login_id, token, reason="proactive")
        return token

    def refresh(self, login_id: str, stale: UserToken, reason: str) -> UserToken:
        """Replace ``stale`` with a newer token: refresh it, or wait for whoever is."""
        started = time.monotonic()
        lock = self._store.lock(login_id)
        if lock.acquire(blocking=False):
            try:
                token, role = self._refresh_holding_lock(login_id, stale, lock)
            finally:
                _release(lock)
        else:
            token, role = self._wait_for_newer(login_id, stale, lock), "waited"
            LOCK_WAIT_SECONDS.observe(time.monotonic() - started)
        if self._on_refresh is not None:
            seconds = time.monotonic() - started
            sent = getattr(self._local, "sent", ()) if role == "refreshed" else ()
            event = Refresh(
                reason, role, seconds, token.version, fingerprint(token.access_token), sent
            )
            self._on_refresh(login_id, event)
        return token

    def _refresh_holding_lock(
        self, login_id: str, stale: UserToken, lock: Lock
    ) -> tuple[UserToken, str]:
        current = self._store.get(login_id)
        if current is None:
            raise SignInRequired()
        if current.version != stale.version:
            REFRESHES.labels("lost_race_resolved").inc()
            return current, "already_fresh"
        if not current.refresh_token:
            self._store.clear(login_id)
            raise SignInRequired()
        key = DPoPKey.from_jwk(current.dpop_jwk) if current.dpop_jwk else None
        try:
            with keep_alive(lock):
                response, self._local.sent = self._oauth.refresh(current.refresh_token, key)
        except TokenRejected:
            REFRESHES.labels("invalid_grant").inc()
            return self._after_rejection(login_id, current), "already_fresh"
        except AuthServerUnavailable:
            REFRESHES.labels("unavailable").inc()
            raise
        try:
            token = token_from_response(response, current.scope, current, current.dpop_jwk)
        except (KeyError, ValueError):  # no access token, or not a Bearer token
            REFRESHES.labels("unavailable").inc()
            raise AuthServerUnavailable("unusable token response") from None
        saved = self._store.compare_and_set(login_id, current.version, token)
        if saved is None:  # signed out, or the lock expired and another refresh won
            saved = self._store.get(login_id)
            if saved is None:
                raise SignInRequired()
        REFRESHES.labels("success").inc()
        return saved, "refreshed"

    def _after_rejection(self, login_id: str, spent: UserToken) -> UserToken:
        """Tell a lost race from a dead grant: only the latter signs the user out."""
        latest = self._store.get(login_id)
        if latest is not None and latest.version != spent.version:
            return latest
        self._store.clear(login_id)
        raise SignInRequired()

    def _wait_for_newer(self, login_id: str, stale: UserToken, lock: Lock) -> UserToken:
        """Poll, with backoff, until the holder saves a newer token or the wait runs out."""
        deadline = time.monotonic() + self._wait
        delay = POLL_FIRST
        while time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, POLL_MAX)
            released = not lock.locked()
            # Read the version after the lock: a holder saves before it releases.
            newer = self._newer_than(login_id, stale)
            if newer is not None:
                return newer
            if released:
                break  # the holder gave up without a new token (server unavailable)
        raise AuthServerUnavailable("refresh still in progress elsewhere", retry_after=1)

    def _newer_than(self, login_id: str, stale: UserToken) -> UserToken | None:
        version = self._store.version(login_id)
        if version is None:
            raise SignInRequired()
        if version == stale.version:
            return None
        newer = self._store.get(login_id)
        if newer is None:
            raise SignInRequired()
        return newer


@contextmanager
def keep_alive(lock: Lock) -> Iterator[None]:
    """Extend ``lock`` while the block runs, however long the token endpoint takes to answer.

    The HTTP timeouts bound each socket read, not the whole answer: a server that sends its
    answer a byte at a time can outlast the lock. Were the lock to expire meanwhile, another
    request would spend the same refresh token, and a server with reuse detection would revoke
    the whole grant. If this process dies, the lock still expires on its own.
    """
    done = threading.Event()

    def extend() -> None:
        while not done.wait(lock.timeout / 3):  # type: ignore[operator]
            try:
                lock.reacquire()
            except (LockError, RedisError):
                return  # lost already, or Redis is gone: nothing left to keep

    keeper = threading.Thread(target=extend, name="aa-lock-keeper", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()


def _release(lock: Lock) -> None:
    # The lock may have expired while we held it; then it is someone else's to release.
    with suppress(LockError):
        lock.release()

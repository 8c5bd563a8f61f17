"""A second token storage, in the process: a dict and a threading.Lock, for the contract tests.

It keeps what the protocol asks for and nothing more, to show that the lifecycle needs no
more than ``flask_altitudeangel.storage.TokenStorage`` (it shares nothing between processes,
so it serves one process only).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace

from flask_altitudeangel.storage import ClientToken, UserToken


class MemoryLock:
    """One holder of a named lock in a MemoryStorage."""

    def __init__(self, storage: MemoryStorage, name: str, ttl: float) -> None:
        self._storage = storage
        self._name = name
        self._ttl = ttl

    def acquire(self) -> bool:
        with self._storage.guard:
            if self._storage.lock_holder(self._name) is not None:
                return False
            self._storage.locks[self._name] = (self, time.monotonic() + self._ttl)
            return True

    def extend(self) -> bool:
        with self._storage.guard:
            if self._storage.lock_holder(self._name) is not self:
                return False
            self._storage.locks[self._name] = (self, time.monotonic() + self._ttl)
            return True

    def release(self) -> None:
        with self._storage.guard:
            if self._storage.lock_holder(self._name) is self:
                del self._storage.locks[self._name]

    def held(self) -> bool:
        with self._storage.guard:
            return self._storage.lock_holder(self._name) is not None


class MemoryStorage:
    """Tokens, idle deadlines, locks and the client token in dicts, behind one lock."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.locks: dict[str, tuple[MemoryLock, float]] = {}
        self._tokens: dict[str, tuple[UserToken, int]] = {}  # login id: token, kept until
        self._idle: dict[str, int] = {}
        self._client: ClientToken | None = None
        self._index: dict[str, dict[str, int]] = {}  # name: {login id: kept until}
        self._used: dict[str, int] = {}  # name: noted until

    def lock_holder(self, name: str) -> MemoryLock | None:
        """Return who holds ``name`` now; call with ``guard`` held."""
        holder, until = self.locks.get(name, (None, 0.0))
        return holder if time.monotonic() < until else None

    def get(self, login_id: str) -> UserToken | None:
        with self.guard:
            return self._live(login_id)

    def _live(self, login_id: str) -> UserToken | None:
        token, keep_until = self._tokens.get(login_id, (None, 0))
        return token if token is not None and time.time() < keep_until else None

    def create(
        self, login_id: str, token: UserToken, idle_deadline: int, keep_until: int
    ) -> UserToken:
        saved = replace(token, version=1)
        with self.guard:
            self._tokens[login_id] = (saved, keep_until)
            self._idle[login_id] = idle_deadline
        return saved

    def compare_and_set(self, login_id: str, expected: int, token: UserToken) -> UserToken | None:
        with self.guard:
            current = self._live(login_id)
            if current is None or current.version != expected:
                return None
            saved = replace(token, version=expected + 1)
            self._tokens[login_id] = (saved, self._tokens[login_id][1])
            return saved

    def clear(self, login_id: str) -> UserToken | None:
        with self.guard:
            taken = self._live(login_id)
            self._tokens.pop(login_id, None)
            self._idle.pop(login_id, None)
            return taken

    def seen(self, login_id: str, idle_deadline: int) -> None:
        with self.guard:
            self._idle[login_id] = idle_deadline

    def idle_logins(self, now: float, limit: int = 500) -> list[str]:
        with self.guard:
            idle = sorted((deadline, login) for login, deadline in self._idle.items())
        return [login for deadline, login in idle if deadline <= now][:limit]

    def index_login(self, login_id: str, names: Sequence[str], keep_until: int) -> None:
        with self.guard:
            for name in names:
                self._index.setdefault(name, {})[login_id] = keep_until

    def indexed_logins(self, name: str) -> list[str]:
        now = time.time()
        with self.guard:
            return [login for login, until in self._index.get(name, {}).items() if until >= now]

    def first_use(self, name: str, until: int) -> bool:
        with self.guard:
            if self._used.get(name, 0) > time.time():
                return False
            self._used[name] = until
            return True

    def lock(self, name: str, ttl: float) -> MemoryLock:
        return MemoryLock(self, name, ttl)

    def client_token(self) -> ClientToken | None:
        with self.guard:
            token = self._client
        return token if token is not None and time.time() < token.expires_at else None

    def save_client_token(self, token: ClientToken) -> None:
        with self.guard:
            self._client = token

    def discard_client_token(self, access_token: str) -> None:
        with self.guard:
            if self._client is not None and self._client.access_token == access_token:
                self._client = None

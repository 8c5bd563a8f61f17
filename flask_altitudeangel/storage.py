"""Where the token lifecycle keeps its state: the protocol a storage follows, and the default.

``AltitudeAngel(app, storage=...)`` takes any object with the methods of ``TokenStorage``; by
default the extension keeps tokens in its Redis (``RedisTokenStore``). The lifecycle decides
*when* to refresh, revoke or forget; a storage only keeps what it is given, atomically where
a method says so, shared by every worker and host that serves the app. See the "Token storage"
section of docs/extension.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from flask_altitudeangel._tokens.model import ClientToken, UserToken
from flask_altitudeangel._tokens.store import RedisTokenStore
from flask_altitudeangel.errors import StorageUnavailable

__all__ = [
    "ClientToken",
    "RedisTokenStore",
    "StorageLock",
    "StorageUnavailable",
    "TokenStorage",
    "UserToken",
]


class StorageLock(Protocol):
    """A lock shared by every worker and host, that expires on its own ``ttl`` after taken.

    One object stands for one holder; another holder's object never releases or extends it.
    """

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; never wait. Return whether it was taken."""
        ...

    def extend(self) -> bool:
        """Restart the lock's ttl from now; return False if it is no longer this holder's.

        Raises ``StorageUnavailable`` when the storage cannot answer: the holder tries again.
        """
        ...

    def release(self) -> None:
        """Release the lock if this holder still has it; otherwise do nothing."""
        ...

    def held(self) -> bool:
        """Tell whether anyone holds the lock now."""
        ...


class TokenStorage(Protocol):
    """Each login's tokens, the logins by idle deadline and by provider session, the app's
    token, and locks.

    Tokens are kept with a version: ``create`` stores version 1, and each save after it is
    a compare-and-set from the version read. Every method raises ``StorageUnavailable`` when
    the storage cannot answer; nothing else. A storage outside the process should keep tokens
    encrypted (``RedisTokenStore`` does).
    """

    def get(self, login_id: str) -> UserToken | None:
        """Return the login's token with its stored version, or None."""
        ...

    def create(
        self, login_id: str, token: UserToken, idle_deadline: int, keep_until: int
    ) -> UserToken:
        """Store a new login's first token as version 1, forgotten at ``keep_until``."""
        ...

    def compare_and_set(self, login_id: str, expected: int, token: UserToken) -> UserToken | None:
        """Atomically replace the token if its version is still ``expected``; else None.

        The saved token has version ``expected + 1`` and keeps the login's ``keep_until``.
        A login that was cleared has no version: the save is refused.
        """
        ...

    def clear(self, login_id: str) -> UserToken | None:
        """Forget the login (its token, its place in the idle index); return the token it had.

        Atomic with ``compare_and_set``: a token saved before the clear is the one returned,
        and a save after it is refused. So a sign-out during a refresh revokes either what
        the refresh saved, or the refresh finds the login gone and revokes what it received.
        """
        ...

    def seen(self, login_id: str, idle_deadline: int) -> None:
        """Note in the idle index when the login falls idle unless used again."""
        ...

    def idle_logins(self, now: float, limit: int = 500) -> list[str]:
        """Return up to ``limit`` logins whose idle deadline is before ``now``, oldest first."""
        ...

    def index_login(self, login_id: str, names: Sequence[str], keep_until: int) -> None:
        """Note the login under each of ``names`` until ``keep_until``; others may share them.

        The names are those of the login's ID token: ``sid:<its sid>`` and ``sub:<its sub>``,
        for the provider to end its logins by (back-channel logout).
        """
        ...

    def indexed_logins(self, name: str) -> list[str]:
        """Return the logins noted under ``name`` whose ``keep_until`` is not past."""
        ...

    def first_use(self, name: str, until: int) -> bool:
        """Atomically note ``name`` until ``until``; return False if it was noted already.

        A logout token's ``jti`` is noted so: a token sent again is refused.
        """
        ...

    def lock(self, name: str, ttl: float) -> StorageLock:
        """Return a holder of the lock called ``name`` (a login id, or ``client-token``)."""
        ...

    def client_token(self) -> ClientToken | None:
        """Return the app's stored client token, or None."""
        ...

    def save_client_token(self, token: ClientToken) -> None:
        """Store the app's client token until it expires."""
        ...

    def discard_client_token(self, access_token: str) -> None:
        """Forget the stored client token if it is still ``access_token``."""
        ...

"""The login transaction: state, PKCE verifier and return path of one sign-in attempt.

Transactions are kept server-side in the session, at most five per session and each for ten
minutes, so hammering /login cannot grow the session. A state is spent once, atomically, even
when the same callback URL reaches two workers at the same moment.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

MAX_PENDING = 5
LIFETIME = 600
SESSION_KEY = "login_tx"


@dataclass(frozen=True)
class LoginTransaction:
    state: str
    code_verifier: str | None
    next: str
    scope: str
    created: int

    def expired(self, now: float) -> bool:
        return now - self.created > LIFETIME


def begin(
    session: MutableMapping[str, Any], next_path: str, scope: str, use_pkce: bool
) -> LoginTransaction:
    """Start a transaction and keep it in the session beside the newest others."""
    now = int(time.time())
    tx = LoginTransaction(
        state=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64) if use_pkce else None,
        next=next_path,
        scope=scope,
        created=now,
    )
    pending = [t for t in session.get(SESSION_KEY, []) if now - t["created"] <= LIFETIME]
    session[SESSION_KEY] = [*pending, asdict(tx)][-MAX_PENDING:]
    return tx


def take(session: MutableMapping[str, Any], state: str | None) -> LoginTransaction | None:
    """Remove and return the session's live transaction for ``state``, if there is one."""
    pending = session.get(SESSION_KEY, [])
    if not state or not pending:
        return None
    found = None
    for item in pending:
        if hmac.compare_digest(str(item.get("state", "")), state):
            found = item
    if found is None:
        return None
    session[SESSION_KEY] = [t for t in pending if t is not found]
    tx = LoginTransaction(**found)
    return None if tx.expired(time.time()) else tx


def claim(redis: Any, state: str) -> bool:
    """Spend ``state`` for good; False if another request already did."""
    digest = hashlib.sha256(state.encode()).hexdigest()
    return bool(redis.set(f"portal:spent-state:{digest}", 1, nx=True, ex=LIFETIME))

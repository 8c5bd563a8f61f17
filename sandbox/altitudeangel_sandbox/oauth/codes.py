"""Authorization codes: single use, short-lived, bound to everything the request named."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass

import redis

from altitudeangel_sandbox.oauth.sessions import SignIn
from altitudeangel_sandbox.store import digest, key

# A used code is remembered for an hour so a late replay still revokes what it produced.
USED_CODE_TTL = 3600


@dataclass(frozen=True)
class AuthorizationCode:
    """A stored code and what it is bound to."""

    digest: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    family: str
    code_challenge: str | None
    code_challenge_method: str | None
    sid: str | None = None
    auth_time: int | None = None
    nonce: str | None = None

    @property
    def sign_in(self) -> SignIn | None:
        """Return the browser sign-in the code was issued in, with the request's nonce."""
        if self.sid is None or self.auth_time is None:
            return None
        return SignIn(self.sid, self.auth_time, self.nonce)

    def get_redirect_uri(self) -> str:
        """Return the redirect URI the authorization request named."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope


class AuthorizationCodes:
    """Create, find and consume authorization codes."""

    def __init__(self, db: redis.Redis, ttl: int):
        self._db = db
        self._ttl = ttl

    def save(
        self,
        value: str,
        client_id: str,
        redirect_uri: str,
        scope: str,
        username: str,
        challenge: tuple[str | None, str | None],
        sign_in: SignIn | None = None,
    ) -> None:
        """Store the new code ``value``; the token family of its login is fixed now."""
        code = AuthorizationCode(
            digest=digest(value),
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            username=username,
            family=str(uuid.uuid4()),
            code_challenge=challenge[0],
            code_challenge_method=challenge[1],
            sid=sign_in.sid if sign_in else None,
            auth_time=sign_in.auth_time if sign_in else None,
            nonce=sign_in.nonce if sign_in else None,
        )
        self._db.set(key("code", code.digest), json.dumps(asdict(code)), ex=self._ttl)

    def find(self, value: str) -> AuthorizationCode | None:
        """Return the unused code ``value`` stands for."""
        return self._load(key("code", digest(value)))

    def find_used(self, value: str) -> AuthorizationCode | None:
        """Return the code ``value`` stood for if it was already exchanged."""
        return self._load(key("code-used", digest(value)))

    def _load(self, name: str) -> AuthorizationCode | None:
        record = self._db.get(name)
        return AuthorizationCode(**json.loads(str(record))) if record else None

    def consume(self, code: AuthorizationCode) -> bool:
        """Mark the code used; return False if another request exchanged it first."""
        with self._db.pipeline(transaction=True) as pipe:
            pipe.rename(key("code", code.digest), key("code-used", code.digest))
            pipe.expire(key("code-used", code.digest), USED_CODE_TTL)
            renamed, _ = pipe.execute(raise_on_error=False)
        return not isinstance(renamed, Exception)

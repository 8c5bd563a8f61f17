"""The default token storage: each login's tokens in a Redis hash, encrypted, with a version.

Tokens live in their own Redis hash per login, never inside the session blob (which is rewritten
wholesale and would bring back a stale refresh token). The hash holds a plain version counter,
so a refresh can be saved with a compare-and-set, and the encrypted token itself.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import zlib
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import asdict, replace
from typing import Any

from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from flask_altitudeangel._crypto import Cipher, InvalidToken
from flask_altitudeangel._durable import DurableWrites
from flask_altitudeangel._tokens.model import CLIENT_TOKEN, ClientToken, UserToken
from flask_altitudeangel.errors import StorageUnavailable

# Every token write, the first and each refresh: a refresh is saved only if nobody saved
# another since `expected` was read (ARGV[1], empty for the first), or if what is stored is
# this very write (ARGV[2], ARGV[3]), sent again after a failover. The key keeps the expiry it
# was created with: a refresh never lets it outlive the sign-in's absolute limit.
SAVE = """
local v = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] ~= '' and v ~= ARGV[1] then
  if v ~= ARGV[2] or redis.call('HGET', KEYS[1], 'blob') ~= ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'blob', ARGV[3])
if ARGV[1] == '' then redis.call('EXPIREAT', KEYS[1], ARGV[4]) end
return 1
"""
# Take a lock (SET NX PX, as redis-py's Lock does), or find it taken already by this very
# holder: an acquire sent again after a failover.
ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
# How long a rotated token's save keeps trying while the primary fails over, and a lock's.
FAILOVER_WAIT = 10.0
LOCK_WAIT = 2.0
# Forget a login and hand back what it had, at once: a refresh saved a moment earlier is
# handed back (and revoked), one saved a moment later finds the login gone.
TAKE = """
local found = redis.call('HMGET', KEYS[1], 'v', 'blob')
redis.call('DEL', KEYS[1])
return found
"""
# Every live login by the time it falls idle, so the ones nobody signs out can be swept.
IDLE_INDEX = "logins-by-idle-deadline"
# Note a login under a name (its provider session, its user) until it is forgotten: entries
# past their time are dropped, and the key lives as long as its last entry.
INDEX = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('EXPIREAT', KEYS[1], last[2])
return 1
"""


class _Answering:
    """Turn Redis failures into the storage's one error.

    A context manager of its own rather than a generator's: the token is read on every page,
    and contextmanager builds a generator and its wrapper for each read.
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> None:
        if isinstance(error, RedisError):
            raise StorageUnavailable(f"token storage: {type(error).__name__}") from None


_ANSWERING = _Answering()


class RedisLock:
    """A lock in Redis (SET NX PX with an owner token), as the storage protocol has it.

    Taken durably (see ``_durable``): a lock lost in a failover would let a second request
    spend the refresh token the first one is spending.
    """

    def __init__(self, redis: Any, name: str, ttl: float, durable: DurableWrites | None) -> None:
        # Not thread-local: the holder's keeper thread extends it while the holder waits.
        self._lock = Lock(redis, name, timeout=ttl, thread_local=False)
        self._durable = durable

    def acquire(self) -> bool:
        with _ANSWERING:
            if self._durable is None:
                return bool(self._lock.acquire(blocking=False))
            token = secrets.token_hex(16).encode()
            ttl = int(1000 * float(self._lock.timeout or 0))
            [taken] = self._durable.write(
                lambda pipe: pipe.eval(ACQUIRE, 1, self._lock.name, token, ttl), LOCK_WAIT
            )
        if taken:
            self._lock.local.token = token  # as redis-py's Lock keeps it, to extend and release
        return bool(taken)

    def extend(self) -> bool:
        with _ANSWERING:
            try:
                return bool(self._lock.reacquire())
            except LockError:  # a RedisError too: tell it apart first
                return False  # lost already: nothing left to keep

    def release(self) -> None:
        # The lock may have expired meanwhile; then it is someone else's to release.
        with suppress(LockError, RedisError):
            self._lock.release()

    def held(self) -> bool:
        with _ANSWERING:
            return bool(self._lock.locked())


OPTIONAL = ("refreshed_at", "dpop_jwk", "id_token", "id_claims")  # fields with a default of None


def _inflated(plaintext: bytes) -> bytes:
    """The JSON of a token record: compressed (zlib's first byte is 0x78), or as written
    before compression, which is JSON and starts with "{".

    A record is mostly base64 (the access token, a JWT, the refresh token, the DPoP key),
    which zlib stores in three quarters of the bytes: a user's record in Redis goes from
    ~1,800 to ~1,450 bytes, for ~6 µs of decompression a page view. Nobody outside the app can
    put text of theirs beside the tokens in a record, so its compressed length tells nothing.
    """
    return plaintext if plaintext[:1] == b"{" else zlib.decompress(plaintext)


class RedisTokenStore:
    """Users' tokens in Redis, encrypted, addressed by a random login id kept in the session."""

    def __init__(
        self, redis: Any, cipher: Cipher, prefix: str, failover_wait: float = FAILOVER_WAIT
    ) -> None:
        self._redis = redis
        self._durable = DurableWrites.of(redis)
        self._failover_wait = failover_wait
        self._cipher = cipher
        self._prefix = prefix
        self._idle_index = prefix + IDLE_INDEX
        self._save_script = redis.register_script(SAVE)
        self._take_script = redis.register_script(TAKE)
        self._index_script = redis.register_script(INDEX)

    def key(self, login_id: str, part: str = "tokens") -> str:
        """Name a key of one login; the hash tag keeps them in one Redis Cluster slot."""
        return f"{self._prefix}login:{{{login_id}}}:{part}"

    def get(self, login_id: str) -> UserToken | None:
        """Return the stored token, or None when there is none or it cannot be decrypted."""
        with _ANSWERING:
            version, blob = self._redis.hmget(self.key(login_id), "v", "blob")
        return self._decrypt(version, blob)

    def _decrypt(self, version: Any, blob: Any) -> UserToken | None:
        if version is None or blob is None:
            return None
        try:
            fields = json.loads(_inflated(self._cipher.decrypt(blob)))
        except (InvalidToken, ValueError, zlib.error):
            return None
        return UserToken(**{**fields, "version": int(version)})

    def create(
        self, login_id: str, token: UserToken, idle_deadline: int, keep_until: int
    ) -> UserToken:
        """Store the first token of a new login, kept until the sign-in's absolute limit."""
        saved = replace(token, version=1)
        self._save(login_id, None, saved, keep_until)
        self.seen(login_id, idle_deadline)
        # Logins idle since before any sign-in still live have no tokens left to revoke.
        oldest_live = saved.obtained_at - (keep_until - saved.obtained_at)
        with _ANSWERING:
            self._redis.zremrangebyscore(self._idle_index, "-inf", oldest_live)
        return saved

    def compare_and_set(self, login_id: str, expected: int, token: UserToken) -> UserToken | None:
        """Save ``token`` if the stored version is still ``expected``; None if it was not."""
        saved = replace(token, version=expected + 1)
        return saved if self._save(login_id, expected, saved, 0) else None

    def _save(self, login_id: str, expected: int | None, token: UserToken, keep_until: int) -> bool:
        """Write a login's token: the one place every token write goes through.

        The write is durable: once it returns, a replica has it, and a primary that fails
        mid-write is written to again, once promoted (the same bytes: the script knows them).
        """
        key = self.key(login_id)
        args = ["" if expected is None else expected, token.version, self._encrypt(token)]
        with _ANSWERING:
            if self._durable is None:
                return bool(self._save_script(keys=[key], args=[*args, keep_until]))
            [saved] = self._durable.write(
                lambda pipe: pipe.eval(SAVE, 1, key, *args, keep_until), self._failover_wait
            )
        return bool(saved)

    def clear(self, login_id: str) -> UserToken | None:
        """Delete everything kept for this login; return the token it had."""
        with _ANSWERING:
            version, blob = self._take_script(keys=[self.key(login_id)])
            self._redis.zrem(self._idle_index, login_id)  # another cluster slot: its own command
        return self._decrypt(version, blob)

    def seen(self, login_id: str, idle_deadline: int) -> None:
        """Note when the login falls idle unless it is used again."""
        with _ANSWERING:
            self._redis.zadd(self._idle_index, {login_id: idle_deadline})

    def idle_logins(self, now: float, limit: int = 500) -> list[str]:
        """Return logins that fell idle before ``now``, oldest first."""
        with _ANSWERING:
            found = self._redis.zrangebyscore(self._idle_index, "-inf", now, start=0, num=limit)
        return [item.decode() if isinstance(item, bytes) else str(item) for item in found]

    def index_login(self, login_id: str, names: Sequence[str], keep_until: int) -> None:
        """Note the login under each of ``names`` until ``keep_until``."""
        with _ANSWERING:
            for name in names:  # each its own key, and perhaps its own cluster slot
                args = [login_id, keep_until, int(time.time())]
                self._index_script(keys=[self._named(name, "index")], args=args)

    def indexed_logins(self, name: str) -> list[str]:
        """Return the logins noted under ``name`` and not yet past their time."""
        with _ANSWERING:
            found = self._redis.zrangebyscore(self._named(name, "index"), time.time(), "+inf")
        return [item.decode() if isinstance(item, bytes) else str(item) for item in found]

    def first_use(self, name: str, until: int) -> bool:
        """Note ``name`` until ``until``; return False if it was noted already."""
        with _ANSWERING:
            return bool(self._redis.set(self._named(name, "once"), b"1", nx=True, exat=until))

    def _named(self, name: str, kind: str) -> str:
        # Hashed: the names come from tokens, and a dump of Redis need not tell them.
        return f"{self._prefix}{kind}:{hashlib.sha256(name.encode()).hexdigest()}"

    def lock(self, name: str, ttl: float) -> RedisLock:
        """Return a holder of a login's refresh lock, or of the client token's."""
        key = (
            self._prefix + CLIENT_TOKEN + ":lock"
            if name == CLIENT_TOKEN
            else self.key(name, "lock")
        )
        return RedisLock(self._redis, key, ttl, self._durable)

    def client_token(self) -> ClientToken | None:
        """Return the app's client token, or None when there is none or it cannot be decrypted."""
        with _ANSWERING:
            blob = self._redis.get(self._prefix + CLIENT_TOKEN)
        if blob is None:
            return None
        try:
            return ClientToken(**json.loads(self._cipher.decrypt(blob)))
        except (InvalidToken, ValueError, TypeError):
            return None

    def save_client_token(self, token: ClientToken) -> None:
        """Store the app's client token until it expires."""
        blob = self._cipher.encrypt(json.dumps(asdict(token)).encode())
        with _ANSWERING:
            self._redis.set(self._prefix + CLIENT_TOKEN, blob, exat=int(token.expires_at) + 1)

    def discard_client_token(self, access_token: str) -> None:
        """Forget the stored client token if it is still ``access_token``."""
        stored = self.client_token()
        if stored is not None and stored.access_token == access_token:
            with _ANSWERING:
                self._redis.delete(self._prefix + CLIENT_TOKEN)

    def _encrypt(self, token: UserToken) -> bytes:
        fields = asdict(token)
        del fields["version"]
        for name in OPTIONAL:  # absent when empty, as versions before them wrote it
            if fields[name] is None:
                del fields[name]
        return self._cipher.encrypt(
            zlib.compress(json.dumps(fields, separators=(",", ":")).encode())
        )

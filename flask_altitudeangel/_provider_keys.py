"""The provider's signing keys (its JWKS, at ``jwks_uri``), kept in the process.

They are fetched on first use, and again when a token names a key the set lacks: the provider
has rotated its keys. Such refetches are spaced out (``REFETCH_SPACING``), so a stream of
tokens naming made-up keys cannot make every worker fetch the set for each of them.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, cast

import requests
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from flask_altitudeangel.errors import AuthServerUnavailable

REFETCH_SPACING = 30.0  # seconds between two fetches for a key the set lacked
# The key type each algorithm family signs with (RFC 7518 §3.1, RFC 8037, RFC 9864).
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
log = logging.getLogger(__name__)


class TokenRefused(Exception):
    """A token failed a check; ``check`` names it (``signature``, ``nonce``, ``audience``...)."""

    def __init__(self, check: str) -> None:
        super().__init__(check)
        self.check = check


class ProviderKeys:
    """The provider's public signing keys, by ``kid``, fetched again when one is missing."""

    def __init__(self, jwks_uri: str, timeout: tuple[float, float]) -> None:
        self._uri = jwks_uri
        self._timeout = timeout
        self._lock = threading.Lock()  # one fetch at a time in this process
        self._keys: KeySet | None = None
        self._refetched_at = float("-inf")

    def key_for(self, kid: Any, alg: str) -> Key:
        """Return the key that signs with ``alg`` under ``kid``; raise TokenRefused if none."""
        if not self._uri:
            raise TokenRefused("no_keys")  # AA_JWKS_URI: the provider publishes none
        with self._lock:
            if self._keys is None:
                self._keys = self._fetch()
            found = _pick(self._keys, kid, alg)
            if found is None and time.monotonic() - self._refetched_at >= REFETCH_SPACING:
                self._refetched_at = time.monotonic()
                self._keys = self._fetch()
                found = _pick(self._keys, kid, alg)
        if found is None:
            raise TokenRefused("unknown_key")
        return found

    def _fetch(self) -> KeySet:
        session = requests.Session()
        session.trust_env = False
        try:
            answer = session.get(self._uri, timeout=self._timeout, headers={"Accept": "*/*"})
            document = answer.json() if answer.status_code == 200 else None
            keys = (
                KeySet.import_key_set(cast(Any, document)) if isinstance(document, dict) else None
            )
        except (requests.RequestException, ValueError, TypeError, KeyError, JoseError) as error:
            raise AuthServerUnavailable(f"provider keys: {type(error).__name__}") from None
        finally:
            session.close()
        if keys is None:
            raise AuthServerUnavailable(f"provider keys: HTTP {answer.status_code}")
        log.info("event=provider_keys_read keys=%d", len(keys.keys))
        return keys


def _pick(keys: KeySet, kid: Any, alg: str) -> Key | None:
    """Return the one signing key for ``alg`` named ``kid`` (or the only one, without a kid)."""
    suitable = [
        key
        for key in keys
        if key.key_type == KEY_TYPES.get(alg[:2])
        and key.get("use") in (None, "sig")
        and key.get("alg") in (None, alg)
    ]
    if kid is None:
        return suitable[0] if len(suitable) == 1 else None
    named = [key for key in suitable if key.kid == kid]
    return named[0] if named else None

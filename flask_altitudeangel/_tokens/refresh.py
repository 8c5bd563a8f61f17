"""Single-flight refresh of user tokens, across threads, workers and hosts.

Per login, one storage lock decides who talks to the token endpoint (``SingleFlight``). The
holder re-reads the store (someone may have refreshed already), refreshes, and saves with a
compare-and-set on the version. Everyone else waits, bounded, for the new version and uses it:
a rotating refresh token is spent exactly once. Every way a refresh ends a login revokes what
is left of its grant, but ``invalid_grant``: the server has ended that one already.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flask_altitudeangel._dpop import DPoPKey
from flask_altitudeangel._id_token import IdTokenChecker, TokenRefused
from flask_altitudeangel._metrics import LOCK_WAIT_SECONDS, REFRESHES
from flask_altitudeangel._oauth import OAuthClient
from flask_altitudeangel._tokens.model import UserToken, token_from_response
from flask_altitudeangel._tokens.single_flight import SingleFlight
from flask_altitudeangel.errors import AuthServerUnavailable, SignInRequired, TokenRejected
from flask_altitudeangel.records import Refresh, fingerprint

if TYPE_CHECKING:
    from flask_altitudeangel.storage import TokenStorage

log = logging.getLogger(__name__)
JITTER = 0.2  # refresh up to 20 % earlier than the margin, at random
DEAD_GRANT = "invalid_grant"  # the one refusal that says the grant is gone already


class Refresher:
    """Keep a login's access token fresh, refreshing it at most once at a time anywhere."""

    def __init__(
        self,
        store: TokenStorage,
        oauth: OAuthClient,
        flight: SingleFlight,
        margin: int,
        end: Callable[[str, bool], None],
        on_refresh: Callable[[str, Refresh], None] | None = None,
        id_tokens: IdTokenChecker | None = None,
    ) -> None:
        self._end = end  # how every login ends: its tokens forgotten, its grant revoked
        self._id_tokens = id_tokens
        self._store = store
        self._oauth = oauth
        self._flight = flight
        self._margin = margin
        self._on_refresh = on_refresh

    def current(self, login_id: str) -> UserToken:
        """Return a token that is not about to expire, refreshing it first if it is."""
        token = self._store.get(login_id)
        if token is None:
            raise SignInRequired()
        now = time.time()
        # Not due even at the widest jitter, as on most requests: no random number drawn.
        if not token.needs_refresh(now, self._margin, JITTER):
            return token
        # Spreading refreshes out needs no cryptographic randomness.
        jitter = random.uniform(0, JITTER)  # nosec B311
        if token.needs_refresh(now, self._margin, jitter):
            return self.refresh(login_id, token, reason="proactive")
        return token

    def refresh(self, login_id: str, stale: UserToken, reason: str) -> UserToken:
        """Replace ``stale`` with a newer token: refresh it, or wait for whoever is."""
        started = time.monotonic()
        (token, role), held = self._flight.run(
            login_id,
            lambda: self._refresh_holding_lock(login_id, stale),
            lambda: self._newer_than(login_id, stale),
        )
        if not held:
            LOCK_WAIT_SECONDS.observe(time.monotonic() - started)
        if self._on_refresh is not None:
            seconds = time.monotonic() - started
            event = Refresh(reason, role, seconds, token.version, fingerprint(token.access_token))
            self._on_refresh(login_id, event)
        return token

    def _refresh_holding_lock(self, login_id: str, stale: UserToken) -> tuple[UserToken, str]:
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
            response = self._oauth.refresh(current.refresh_token, key)
        except TokenRejected as error:
            if error.error == DEAD_GRANT:
                REFRESHES.labels("invalid_grant").inc()
                return self._after_rejection(login_id, current), "already_fresh"
            REFRESHES.labels("refused").inc()
            self._end(login_id, False)  # invalid_client, a proof refused twice: the grant lives
            raise SignInRequired() from None
        except AuthServerUnavailable:
            REFRESHES.labels("unavailable").inc()
            raise
        try:
            token = token_from_response(response, current.scope, current, current.dpop_jwk)
        except (KeyError, ValueError):  # no access token, or not a Bearer token
            REFRESHES.labels("unavailable").inc()
            raise AuthServerUnavailable("unusable token response") from None
        token = self._with_identity(login_id, response.get("id_token"), current, token)
        REFRESHES.labels("success").inc()
        return self._save(login_id, current, token), "refreshed"

    def _with_identity(
        self, login_id: str, raw: Any, current: UserToken, token: UserToken
    ) -> UserToken:
        """Check a refreshed ID token: one that fails, another user's say, ends the login."""
        if raw is None or self._id_tokens is None:
            return token
        try:
            identity = self._id_tokens.of_refresh(raw, token.access_token, current.id_claims)
        except TokenRefused as error:
            REFRESHES.labels("id_token_refused").inc()
            log.warning("event=refreshed_id_token_refused check=%s", error.check)
            if token.refresh_token:  # the grant lives on in the refresh token just received
                self._oauth.revoke_in_background(token.refresh_token)
            self._end(login_id, False)
            raise SignInRequired() from None
        except AuthServerUnavailable:
            # The tokens just received must be kept (the refresh token they replace is spent);
            # the ID token that could not be checked is not: the sign-in's stays.
            log.warning("event=refreshed_id_token_unchecked reason=keys_unavailable")
            return token
        return replace(token, id_token=identity.raw, id_claims=identity.claims)

    def _save(self, login_id: str, current: UserToken, token: UserToken) -> UserToken:
        """Save a refreshed token; revoke it if the login ended while the refresh was out."""
        saved = self._store.compare_and_set(login_id, current.version, token)
        if saved is not None:
            return saved
        latest = self._store.get(login_id)
        if latest is not None:  # the lock expired and another refresh won: use its token
            return latest
        # Signed out meanwhile: sign-out revoked the refresh token this refresh spent, so
        # the grant lives on in the one just received.
        if token.refresh_token:
            self._oauth.revoke_in_background(token.refresh_token)
        raise SignInRequired()

    def _after_rejection(self, login_id: str, spent: UserToken) -> UserToken:
        """Tell a lost race from a dead grant: only the latter signs the user out."""
        latest = self._store.get(login_id)
        if latest is not None and latest.version != spent.version:
            return latest
        self._store.clear(login_id)
        raise SignInRequired()

    def _newer_than(self, login_id: str, stale: UserToken) -> tuple[UserToken, str] | None:
        newer = self._store.get(login_id)
        if newer is None:
            raise SignInRequired()
        return (newer, "waited") if newer.version != stale.version else None

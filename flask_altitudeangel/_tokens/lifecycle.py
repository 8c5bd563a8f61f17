"""The token lifecycle of every login, behind one face: store, refresh, revoke, sweep."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask_altitudeangel._config import Config
from flask_altitudeangel._id_token import IdTokenChecker
from flask_altitudeangel._oauth import OAuthClient
from flask_altitudeangel._tokens.client_token import ClientTokenSource
from flask_altitudeangel._tokens.model import UserToken
from flask_altitudeangel._tokens.refresh import Refresher
from flask_altitudeangel._tokens.single_flight import SingleFlight
from flask_altitudeangel.errors import AuthServerUnavailable, TokenRejected
from flask_altitudeangel.records import Refresh, TokenFacts, peek_claims

if TYPE_CHECKING:
    from flask_altitudeangel.storage import TokenStorage

log = logging.getLogger(__name__)


class TokenLifecycle:
    """Everything that reads or writes a login's tokens goes through here, and nowhere else."""

    def __init__(
        self,
        config: Config,
        storage: TokenStorage,
        oauth: OAuthClient,
        on_refresh: Callable[[str, Refresh], None],
        id_tokens: IdTokenChecker | None = None,
    ) -> None:
        # The lock outlives a token request that answers within the timeouts; its holder
        # extends it while a slower answer still trickles in (single_flight.keep_alive).
        lock_ttl = config.http_connect_timeout + config.http_read_timeout + 2
        flight = SingleFlight(storage, lock_ttl, config.refresh_wait)
        self._oauth = oauth
        self._store = storage
        self._keep_for = config.session_absolute_timeout
        self._refresher = Refresher(
            storage, oauth, flight, config.refresh_margin, self.end, on_refresh, id_tokens
        )
        self.client = ClientTokenSource(storage, oauth, flight)

    def start(self, login_id: str, token: UserToken, idle_deadline: int) -> UserToken:
        """Store the first tokens of a new login, found by its ID token's sid and sub too."""
        keep_until = token.obtained_at + self._keep_for
        saved = self._store.create(login_id, token, idle_deadline, keep_until)
        claims = token.id_claims or {}
        names = [f"{name}:{claims[name]}" for name in ("sid", "sub") if claims.get(name)]
        if names:
            self._store.index_login(login_id, names, keep_until)
        return saved

    def end_provider_session(self, sub: str | None, sid: str | None) -> list[str]:
        """End every login of the provider's session ``sid`` (of user ``sub`` without one).

        Only logins whose ID token names that session (and that user, when ``sub`` is given)
        end; return their ids. Their grants are revoked in the background.
        """
        wanted = {name: value for name, value in (("sid", sid), ("sub", sub)) if value}
        ended = []
        for login_id in self._store.indexed_logins(f"sid:{sid}" if sid else f"sub:{sub}"):
            token = self._store.get(login_id)
            claims = (token.id_claims if token else None) or {}
            if claims and all(claims.get(name) == value for name, value in wanted.items()):
                self.end(login_id, wait=False)
                ended.append(login_id)
        return ended

    def first_logout_token(self, jti: str, until: int) -> bool:
        """Note a logout token's ``jti`` until ``until``; False if it was seen already."""
        return self._store.first_use(f"logout-jti:{jti}", until)

    def current(self, login_id: str) -> UserToken:
        """Return a token that is not about to expire, refreshing it (once, anywhere) if it is."""
        return self._refresher.current(login_id)

    def refresh_after_rejection(self, login_id: str, rejected: UserToken) -> UserToken:
        """Replace a token an API refused with a newer one."""
        return self._refresher.refresh(login_id, rejected, reason="rejected")

    def identity(self, login_id: str) -> dict[str, Any] | None:
        """Return the claims of the login's ID token ({} without one), or None: no such login."""
        token = self._store.get(login_id)
        return None if token is None else dict(token.id_claims or {})

    def id_token(self, login_id: str) -> str | None:
        """Return the login's latest ID token, for the end-session endpoint's hint."""
        token = self._store.get(login_id)
        return token.id_token if token else None

    def granted_scope(self, login_id: str) -> str | None:
        token = self._store.get(login_id)
        return token.scope if token else None

    def facts(self, login_id: str) -> TokenFacts | None:
        """Describe the login's stored tokens without handing them out."""
        token = self._store.get(login_id)
        if token is None:
            return None
        return TokenFacts(
            scopes=tuple(sorted(token.scopes)),
            token_type=token.token_type,
            expires_at=token.expires_at,
            obtained_at=token.obtained_at,
            refreshed_at=token.refreshed_at,
            has_refresh_token=bool(token.refresh_token),
            version=token.version,
            claims=peek_claims(token.access_token),
        )

    def seen(self, login_id: str, idle_deadline: int) -> None:
        """Note that the login was used, and when it falls idle unless used again."""
        self._store.seen(login_id, idle_deadline)

    def end(self, login_id: str, wait: bool) -> None:
        """Delete the login's tokens and revoke its grant.

        Only an explicit sign-out waits for the revocation (and briefly): every other end of a
        login revokes in the background, so a slow authorization server never holds a user up.
        """
        token = self._store.clear(login_id)
        if token is None or not token.refresh_token:
            return
        if not wait:
            self._oauth.revoke_in_background(token.refresh_token)
            return
        try:
            self._oauth.revoke(token.refresh_token)
        except (TokenRejected, AuthServerUnavailable) as error:
            # Signing out here must not depend on the authorization server being up.
            log.warning("event=revocation_failed reason=%s", type(error).__name__)

    def idle_logins(self, now: float) -> list[str]:
        """Return a batch of logins idle since before ``now``."""
        return self._store.idle_logins(now)

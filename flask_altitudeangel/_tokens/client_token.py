"""The client-credentials token: one per deployment, shared through the storage, fetched once."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask_altitudeangel._dpop import DPoPKey
from flask_altitudeangel._oauth import OAuthClient
from flask_altitudeangel._tokens.model import CLIENT_TOKEN, ClientToken
from flask_altitudeangel._tokens.single_flight import SingleFlight

if TYPE_CHECKING:
    from flask_altitudeangel.storage import TokenStorage


class ClientTokenSource:
    """Hand out a fresh client token; refetch it ahead of expiry, once at a time anywhere."""

    def __init__(self, storage: TokenStorage, oauth: OAuthClient, flight: SingleFlight) -> None:
        self._storage = storage
        self._oauth = oauth
        self._flight = flight
        self._cached: ClientToken | None = None

    def get(self) -> ClientToken:
        """Return a token that is not about to expire."""
        cached = self._cached
        if cached is not None and cached.fresh(time.time()):
            return cached
        token = self._stored_fresh() or self._fetch_or_wait()
        self._cached = token
        return token

    def _fetch_or_wait(self) -> ClientToken:
        token, _ = self._flight.run(CLIENT_TOKEN, self._fetch_once, self._stored_fresh)
        return token

    def discard(self, access_token: str) -> None:
        """Forget a token the API rejected, so the next get() fetches another."""
        cached = self._cached
        if cached is not None and cached.access_token == access_token:
            self._cached = None
        self._storage.discard_client_token(access_token)

    def _stored_fresh(self) -> ClientToken | None:
        token = self._storage.client_token()
        return token if token is not None and token.fresh(time.time()) else None

    def _fetch_once(self) -> ClientToken:
        token = self._stored_fresh()
        if token is not None:
            return token  # another worker fetched it while this one took the lock
        key = DPoPKey.generate() if self._oauth.binds_tokens else None
        response = self._oauth.client_credentials(key)
        lifetime = max(1, int(response.get("expires_in") or 300))
        bound = key is not None and str(response.get("token_type", "")).lower() == "dpop"
        token = ClientToken(
            str(response["access_token"]),
            time.time() + lifetime,
            lifetime,
            "DPoP" if bound else "Bearer",
            key.private_jwk() if bound and key else None,
        )
        self._storage.save_client_token(token)
        return token

"""What the extension keeps for one app, and the token sources its API clients draw on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import urllib3
from flask import current_app, g, has_app_context

from flask_altitudeangel import _session
from flask_altitudeangel._api import ApiClient, Credential, TokenSource
from flask_altitudeangel._config import Config
from flask_altitudeangel._endpoints import Server
from flask_altitudeangel._id_token import IdTokenChecker
from flask_altitudeangel._oauth import OAuthClient
from flask_altitudeangel._profile import bound_tokens_only
from flask_altitudeangel._signin.pending import PendingSignIns
from flask_altitudeangel._tokens import TokenLifecycle
from flask_altitudeangel.errors import ApiError, SignInRequired
from flask_altitudeangel.records import Login, Refresh
from flask_altitudeangel.signals import token_refreshed

NAME = "altitudeangel"
TOKEN_OF_REQUEST = "altitudeangel_request_token"  # nosec B105 - a name in flask.g


@dataclass(frozen=True)
class AppState:
    """What the extension keeps for one app, in ``app.extensions["altitudeangel"]``.

    Its sign-in views are given it when the app is bound; everything else reaches it through
    ``current_state``, the one place it is looked up.
    """

    server: Server  # the settings, and the authorization server's endpoints once known
    oauth: OAuthClient
    pending: PendingSignIns
    tokens: TokenLifecycle
    http: urllib3.PoolManager
    id_tokens: IdTokenChecker

    @property
    def config(self) -> Config:
        """The settings, with the server's endpoints once known (``server.ready`` reads them)."""
        return self.server.config

    def current_login(self) -> Login | None:
        return _session.current(self.config, self.tokens)

    def user_api(self) -> ApiClient:
        self.server.ready()  # its endpoints (a refresh's, the profile's) are the server's
        return self._user_api

    @cached_property
    def _user_api(self) -> ApiClient:
        """One client for every request: the token it sends is the request's user's."""
        return self._api(_UserToken(self))

    def client_api(self) -> ApiClient:
        self.server.ready()
        return self._api(_ClientToken(self))

    def fixed_token_api(self, token: Credential) -> ApiClient:
        return self._api(_FixedToken(token))

    def _api(self, source: TokenSource) -> ApiClient:
        bound_only = bound_tokens_only(self.config)
        return ApiClient(self.http, source, self.oauth.servers, _app(), bound_only)


def current_state() -> AppState:
    """Return the extension's state of the app handling this request (or command)."""
    # The app itself: an attribute read through current_app costs ~8,000 instructions, and
    # a page view asks for the state half a dozen times.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state: AppState = app.extensions[NAME]
    return state


class _UserToken:
    """The signed-in user's token: refreshed before expiry, and once after a 401.

    One serves every request of the app: it keeps nothing of its own, only in the request's g.
    """

    kind = "user"

    def __init__(self, state: AppState) -> None:
        self._state = state

    def token(self) -> Credential:
        login = self._state.current_login()
        if login is None:
            raise SignInRequired()
        # Read (and refreshed when due) once a request: a page may call several APIs.
        here = g._get_current_object()
        cached = here.get(TOKEN_OF_REQUEST)
        if cached is not None and cached[0] == login.login_id:
            return cast(Credential, cached[1])
        token = self._state.tokens.current(login.login_id)
        here.setdefault(TOKEN_OF_REQUEST, (login.login_id, token))
        return cast(Credential, token)

    def after_rejection(self, rejected: Credential) -> Credential:
        login = self._state.current_login()
        if login is None:  # the session ended meanwhile
            raise SignInRequired()
        token = self._state.tokens.refresh_after_rejection(login.login_id, cast(Any, rejected))
        g.pop(TOKEN_OF_REQUEST, None)  # the next call reads the newer one
        return cast(Credential, token)

    def give_up(self, rejected: Credential) -> Exception:
        # A freshly refreshed token refused too: the grant is no good to this app any more.
        _session.end(self._state.tokens, wait=False, reason="rejected")
        return SignInRequired()


class _ClientToken:
    """The app's client-credentials token, fetched again once after a 401."""

    kind = "client"

    def __init__(self, state: AppState) -> None:
        self._source = state.tokens.client

    def token(self) -> Credential:
        return self._source.get()

    def after_rejection(self, rejected: Credential) -> Credential:
        self._source.discard(rejected.access_token)
        return self._source.get()

    def give_up(self, rejected: Credential) -> Exception:
        return ApiError("the API refused a fresh client token")


class _FixedToken:
    """A token just received, before it is stored (the profile read at sign-in)."""

    kind = "user"

    def __init__(self, token: Credential) -> None:
        self._token = token

    def token(self) -> Credential:
        return self._token

    def after_rejection(self, rejected: Credential) -> Credential:
        raise ApiError("the API refused a token just issued")

    def give_up(self, rejected: Credential) -> Exception:
        return ApiError("the API refused a token just issued")


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def announce_refresh(login_id: str, refresh: Refresh) -> None:
    if has_app_context():  # a refresh made outside any app (a script) has no one to tell
        token_refreshed.send(_app(), login_id=login_id, refresh=refresh)

"""``AltitudeAngel``: the extension object a host app creates and binds with ``init_app``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, url_for

from flask_altitudeangel import _profile, _session
from flask_altitudeangel._api import ApiClient, pool
from flask_altitudeangel._config import Config, read_config
from flask_altitudeangel._crypto import Cipher
from flask_altitudeangel._endpoints import Server
from flask_altitudeangel._id_token import IdTokenChecker
from flask_altitudeangel._oauth import OAuthClient
from flask_altitudeangel._redis import connect
from flask_altitudeangel._signin.pending import PendingSignIns
from flask_altitudeangel._signin.views import create_blueprint
from flask_altitudeangel._state import NAME, AppState, announce_refresh, current_state
from flask_altitudeangel._tokens import TokenLifecycle
from flask_altitudeangel._tokens.store import RedisTokenStore
from flask_altitudeangel.errors import ConfigError, SignInRequired
from flask_altitudeangel.records import Login, TokenFacts
from flask_altitudeangel.signals import signed_out
from flask_altitudeangel.storage import TokenStorage

P = ParamSpec("P")
T = TypeVar("T")


class AltitudeAngel:
    """Sign in with Altitude Angel, and call its APIs with the user's or the app's token.

    Create it bare and bind it (``aa = AltitudeAngel(); aa.init_app(app)``) or at once
    (``AltitudeAngel(app)``). Settings come from ``app.config`` under ``AA_*`` names; see
    docs/extension.md. ``redis`` is the client the extension keeps its state in (tokens,
    pending sign-ins, locks); without one, ``AA_REDIS_URL`` names the server. ``storage``
    keeps the tokens, refresh locks and idle index instead (a ``TokenStorage``, see
    ``flask_altitudeangel.storage``); pending sign-ins stay in Redis.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        redis: Any = None,
        storage: TokenStorage | None = None,
        url_prefix: str = "",
        setting_names: Mapping[str, str] | None = None,
    ) -> None:
        self._redis = redis
        self._storage = storage
        self._url_prefix = url_prefix
        self._names = setting_names
        if app is not None:
            self.init_app(app)

    def init_app(
        self, app: Flask, *, redis: Any = None, storage: TokenStorage | None = None
    ) -> None:
        """Read and check the settings, connect, and mount the sign-in routes.

        ``setting_names`` (given to the constructor) maps ``AA_*`` keys to the names the
        operator set them under, for error messages. Raises one ConfigError naming every bad
        setting. Nothing is asked of the network: the authorization server's metadata is read
        when first needed (see ``readiness_problems``), so the app starts while it is down.
        """
        client = redis if redis is not None else self._redis
        server = _configure(app.config, self._names, self._url_prefix, client is not None)
        config = server.settings
        if client is None:
            client = _connect(config)
        cipher = Cipher(config.token_encryption_keys, str(app.config.get("SECRET_KEY") or ""))
        oauth = OAuthClient(server.ready, app)
        secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
        kept = storage or self._storage or RedisTokenStore(client, cipher, config.redis_key_prefix)
        id_tokens = IdTokenChecker(server.ready)
        state = AppState(
            server=server,
            oauth=oauth,
            pending=PendingSignIns(client, cipher, config.redis_key_prefix, "aa_signin_", secure),
            tokens=TokenLifecycle(config, kept, oauth, announce_refresh, id_tokens),
            http=pool(config.http_connect_timeout, config.http_read_timeout),
            id_tokens=id_tokens,
        )
        app.extensions[NAME] = state
        app.register_blueprint(create_blueprint(state), url_prefix=self._url_prefix)

    @property
    def config(self) -> Config:
        """The current app's settings, as read and checked at start-up; never waits.

        Until the authorization server's metadata has been read (at the first sign-in, token
        request or ``readiness_problems``), the endpoints are those the settings give.
        """
        return current_state().config

    def readiness_problems(self) -> list[str]:
        """Say what keeps sign-in from working now; empty once it can.

        Reads the authorization server's metadata when due (it is asked again after 1 s, then
        twice as long after each failure, up to 60 s): a readiness check answers from here.
        """
        return current_state().server.problems()

    @property
    def current_login(self) -> Login | None:
        """The signed-in user of this request, or None; a login past its limits is ended."""
        return current_state().current_login()

    @property
    def user_api(self) -> ApiClient:
        """Call APIs as the signed-in user: refreshed before expiry, once more after a 401.

        Raises SignInRequired when nobody is signed in, or when the grant no longer works.
        """
        return current_state().user_api()

    @property
    def client_api(self) -> ApiClient:
        """Call APIs with the app's own client-credentials token, shared by every worker."""
        return current_state().client_api()

    def token_facts(self) -> TokenFacts | None:
        """Describe the signed-in user's tokens (scopes, expiry, claims); never the tokens."""
        state = current_state()
        login = state.current_login()
        return state.tokens.facts(login.login_id) if login else None

    def sign_in_url(
        self, next_path: str | None = None, scopes: tuple[str, ...] = (), add_scope: str = ""
    ) -> str:
        """Return the URL that starts a sign-in, coming back to ``next_path``."""
        args: dict[str, Any] = {"next": next_path} if next_path else {}
        if scopes:
            args["scope"] = list(scopes)
        if add_scope:
            args["add_scope"] = add_scope
        return url_for(f"{NAME}.login", **args)

    def sign_out(self) -> None:
        """End this request's login now: revoke its grant, delete its tokens, clear the session."""
        _session.end(current_state().tokens, wait=True, reason="signed_out")

    def sweep_idle_logins(self, now: float | None = None) -> int:
        """Revoke the grants of logins idle past their limit and forget them; return how many.

        A session that idles out in Redis ends the sign-in here but not its grant at the
        authorization server; run this every few minutes (a ``flask`` command, cron).
        """
        tokens = current_state().tokens
        swept = 0
        while batch := tokens.idle_logins(time.time() if now is None else now):
            for login_id in batch:
                tokens.end(login_id, wait=True)
                signed_out.send(_app(), login_id=login_id, reason="swept")
                swept += 1
        return swept


def login_required(view: Callable[P, T]) -> Callable[P, T]:
    """Ask for a sign-in (SignInRequired, a 401) before the view runs, when nobody is signed in."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        if current_state().current_login() is None:
            raise SignInRequired()
        return view(*args, **kwargs)

    return guarded


def _configure(
    values: Mapping[str, Any], names: Mapping[str, str] | None, prefix: str, redis_given: bool
) -> Server:
    """Check every setting, without the network: the server's metadata is read when needed."""
    read = _profile.settings_reader(values, names)  # SettingsReader, and what a profile fixes
    given = {key: value for key, value in values.items() if key.startswith("AA_")}
    # Endpoints given for a sign-in need no metadata, unless AA_DISCOVERY=1 asks for it.
    discovery = read.choice("AA_DISCOVERY", not {"AA_AUTHORIZE_URL", "AA_TOKEN_URL"} <= set(given))
    settings = read_config(read, prefix, None if discovery else {})  # {}: known to be none
    read.secret_key("SECRET_KEY")  # signs sign-out states; keys the tokens' encryption by default
    if not (redis_given or settings.redis_url):
        read.refuse("AA_REDIS_URL", "must be set, or a Redis client given to init_app", "")
    read.check()  # every problem at once
    if not discovery:
        _profile.check_server(settings, {})  # named before the settings it would upset
        _profile.check(settings, names)
    return Server(settings, given, names, prefix, discovery)


def _connect(config: Config) -> Any:
    try:
        return connect(config.redis_url, config.redis_timeout)
    except ValueError as error:
        raise ConfigError("AA_REDIS_URL", f"is not a Redis URL: {error}") from None


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]

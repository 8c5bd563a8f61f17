"""Every setting of the client web app, read from the environment and validated at start-up."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SANDBOX_AUTH_URL = "http://127.0.0.1:5001"
# Only for the local demo against the sandbox (PORTAL_DEMO=1, which `make run` sets): a shared,
# published key lets several workers agree on CSRF signatures without any set-up. Nothing else
# may choose it: which host the authorization server is on says nothing about whether this is
# a demo (a production app may reach its server through a local proxy or tunnel).
SANDBOX_SECRET_KEY = "sandbox-only-secret-key-do-not-use-in-production"  # nosec B105

REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """The app's configuration; field names are the environment variables, lower-cased."""

    aa_auth_url: str  # base of the authorization server
    aa_authorize_url: str
    aa_token_url: str
    aa_revoke_url: str  # empty turns revocation off
    aa_end_session_url: str  # RP-Initiated Logout endpoint; empty: the platform documents none
    aa_post_logout_redirect_uri: str  # where the end-session endpoint sends the browser back
    aa_userprofile_url: str
    aa_api_url: str  # base of the flight reports and map data API
    aa_client_id: str
    aa_client_secret: str
    aa_scopes: str  # requested at sign-in
    aa_client_scopes: str  # requested for the client-credentials token
    aa_redirect_uri: str  # a constant, never derived from the request
    aa_issuer: str  # expected RFC 9207 `iss`; empty skips the check
    aa_require_iss: bool  # reject an authorization response without `iss`
    aa_use_pkce: bool
    redis_url: str
    secret_key: str
    token_encryption_keys: tuple[str, ...]  # Fernet keys; the first encrypts, all decrypt
    session_idle_timeout: int  # seconds without a request before sign-in is needed again
    session_absolute_timeout: int  # seconds after sign-in before it is needed again
    refresh_margin: int  # refresh this many seconds before expiry (capped at half the lifetime)
    http_connect_timeout: float
    http_read_timeout: float
    redis_timeout: float
    refresh_wait: float  # how long a request waits for another one's refresh
    session_cookie_secure: bool  # serve the cookie as Secure and __Host- (behind HTTPS)
    trust_proxy: int  # number of reverse proxies whose X-Forwarded-* headers are trusted
    flow_trace: bool  # record each login's steps for /flow (on by default in the demo)
    login_rate_limit: str  # /login and /callback requests per client address
    metrics_token: str  # bearer token /metrics asks for; empty: /metrics is not served


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_origin(url: str) -> str:
    """Return the scheme and host of ``url``: the app's origin, when ``url`` is its callback."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _Environment:
    """Typed, validated reads of environment variables, each error naming its variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.insecure_ok = self.flag("AA_ALLOW_HTTP", "0")

    def text(self, name: str, default: str) -> str:
        return self._env.get(name, default).strip()

    def required(self, name: str, what: str) -> str:
        value = self._env.get(name, "")
        if not value:
            raise SettingsError(f"{name} must be set to {what}")
        return value

    def url(self, name: str, default: str, allow_empty: bool = False, base: bool = False) -> str:
        """Read an http(s) URL; a ``base`` URL loses its trailing slash, an endpoint keeps it."""
        value = self.text(name, default)
        if base:
            value = value.rstrip("/")
        if allow_empty and value == "":
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
        if parts.scheme == "http" and not (self.insecure_ok or _is_loopback(value)):
            raise SettingsError(
                f"{name} must use https unless it points at this machine (or AA_ALLOW_HTTP=1)"
            )
        return value

    def flag(self, name: str, default: str) -> bool:
        value = self.text(name, default).lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name} must be 1 or 0, got {value!r}")

    def number(self, name: str, default: str, low: float, high: float, cast: type = int) -> Any:
        value = self.text(name, default)
        try:
            number = cast(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {value!r}") from None
        if not low <= number <= high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return number

    def scopes(self, name: str, default: str) -> str:
        scopes = self.text(name, default).split()
        if not scopes or any(not s.isprintable() or '"' in s or "\\" in s for s in scopes):
            raise SettingsError(f"{name} must be a space-separated list of scopes")
        return " ".join(scopes)

    def fernet_keys(self, name: str) -> tuple[str, ...]:
        from cryptography.fernet import Fernet

        keys = tuple(k.strip() for k in self.text(name, "").split(",") if k.strip())
        for key in keys:
            try:
                Fernet(key)
            except ValueError:
                raise SettingsError(f"{name} must hold comma-separated Fernet keys") from None
        return keys

    def secret_key(self, demo: bool) -> str:
        """SECRET_KEY, which only the local demo (PORTAL_DEMO=1) may go without."""
        value = self._env.get("SECRET_KEY", "")
        if not value:
            if not demo:
                raise SettingsError("SECRET_KEY must be set (a long random string) in production")
            log.warning("SECRET_KEY is not set: using the published sandbox-only key")
            return SANDBOX_SECRET_KEY
        if len(value) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters long")
        return value

    def rate_limit(self, name: str, default: str) -> str:
        from limits import parse_many

        value = self.text(name, default)
        try:
            parse_many(value)
        except ValueError:
            raise SettingsError(f"{name} must be a rate such as '20 per minute'") from None
        return value

    def bearer_token(self, name: str) -> str:
        value = self.text(name, "")
        if value and (len(value) < 24 or not value.isprintable() or " " in value):
            raise SettingsError(f"{name} must be empty or at least 24 printable characters")
        return value

    def redis_url(self) -> str:
        value = self.text("REDIS_URL", "redis://127.0.0.1:6379/0")
        if urlsplit(value).scheme not in REDIS_SCHEMES:
            raise SettingsError(f"REDIS_URL must be a redis:// or rediss:// URL, got {value!r}")
        return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise SettingsError naming the first bad variable."""
    env = _Environment(os.environ if environ is None else environ)
    auth_url = env.url("AA_AUTH_URL", SANDBOX_AUTH_URL, base=True)
    demo = env.flag("PORTAL_DEMO", "0")
    redirect_uri = env.url("AA_REDIRECT_URI", "http://127.0.0.1:5000/callback")
    return Settings(
        aa_auth_url=auth_url,
        aa_authorize_url=env.url("AA_AUTHORIZE_URL", auth_url + "/oauth/v2/authorize"),
        aa_token_url=env.url("AA_TOKEN_URL", auth_url + "/oauth/v2/token"),
        aa_revoke_url=env.url("AA_REVOKE_URL", auth_url + "/oauth/v2/revoke", allow_empty=True),
        aa_end_session_url=env.url("AA_END_SESSION_URL", "", allow_empty=True),
        aa_userprofile_url=env.url("AA_USERPROFILE_URL", auth_url + "/userProfile"),
        aa_api_url=env.url("AA_API_URL", auth_url, base=True),
        aa_client_id=env.required("AA_CLIENT_ID", "the client id of this app"),
        aa_client_secret=env.required("AA_CLIENT_SECRET", "this app's client secret"),
        aa_scopes=env.scopes("AA_SCOPES", "query_userinfo manage_flightreports query_mapdata"),
        aa_client_scopes=env.scopes("AA_CLIENT_SCOPES", "query_mapdata query_mapairdata"),
        aa_redirect_uri=redirect_uri,
        aa_post_logout_redirect_uri=env.url(
            "AA_POST_LOGOUT_REDIRECT_URI", public_origin(redirect_uri) + "/signed-out"
        ),
        aa_issuer=env.text("AA_ISSUER", auth_url).rstrip("/"),
        aa_require_iss=env.flag("AA_REQUIRE_ISS", "0"),
        aa_use_pkce=env.flag("AA_USE_PKCE", "1"),
        redis_url=env.redis_url(),
        secret_key=env.secret_key(demo),
        token_encryption_keys=env.fernet_keys("TOKEN_ENCRYPTION_KEYS"),
        session_idle_timeout=env.number("SESSION_IDLE_TIMEOUT", "1800", 60, 30 * 86400),
        session_absolute_timeout=env.number("SESSION_ABSOLUTE_TIMEOUT", "43200", 60, 90 * 86400),
        refresh_margin=env.number("REFRESH_MARGIN", "60", 0, 3600),
        http_connect_timeout=env.number("HTTP_CONNECT_TIMEOUT", "3", 0.1, 30, float),
        http_read_timeout=env.number("HTTP_READ_TIMEOUT", "10", 0.1, 60, float),
        redis_timeout=env.number("REDIS_TIMEOUT", "1", 0.05, 10, float),
        refresh_wait=env.number("REFRESH_WAIT", "5", 0.1, 20, float),
        session_cookie_secure=env.flag(
            "SESSION_COOKIE_SECURE", "1" if auth_url.startswith("https") else "0"
        ),
        trust_proxy=env.number("TRUST_PROXY", "0", 0, 5),
        flow_trace=env.flag("FLOW_TRACE", "1" if demo else "0"),
        login_rate_limit=env.rate_limit("LOGIN_RATE_LIMIT", "20 per minute"),
        metrics_token=env.bearer_token("METRICS_TOKEN"),
    )

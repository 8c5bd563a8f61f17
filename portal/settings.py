"""Every setting of the client web app, read from the environment and validated at start-up."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SANDBOX_AUTH_URL = "http://127.0.0.1:5001"
# Only for a sandbox on loopback: a shared, well-known key is harmless there and lets several
# workers agree on CSRF signatures without any set-up.
SANDBOX_SECRET_KEY = "sandbox-only-secret-key-do-not-use-in-production"  # nosec B105

PLATFORM_PATHS = (
    ("AA_AUTHORIZE_URL", "/oauth/v2/authorize"),
    ("AA_TOKEN_URL", "/oauth/v2/token"),
    ("AA_REVOKE_URL", "/oauth/v2/revoke"),
    ("AA_USERPROFILE_URL", "/userProfile"),
)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """The app's configuration; field names are the environment variables, lower-cased."""

    aa_auth_url: str  # base of the authorization server
    aa_authorize_url: str
    aa_token_url: str
    aa_revoke_url: str  # empty turns revocation off
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
    flow_trace: bool  # record each login's steps for /flow (on by default with the sandbox)

    @property
    def against_sandbox(self) -> bool:
        """Tell whether the authorization server is a local sandbox on loopback."""
        return _is_loopback(self.aa_auth_url)

    def as_flask_config(self) -> dict[str, Any]:
        """Return the settings as upper-case Flask config keys."""
        return {f.name.upper(): getattr(self, f.name) for f in fields(self)}


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(name: str, value: str, *, insecure_ok: bool, allow_empty: bool = False) -> str:
    if allow_empty and value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    if parts.scheme == "http" and not (insecure_ok or _is_loopback(value)):
        raise SettingsError(
            f"{name} must use https unless it points at this machine (or AA_ALLOW_HTTP=1)"
        )
    return value


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be 1 or 0, got {value!r}")


def _number(cast: Callable[[str], Any], low: float, high: float) -> Callable[[str, str], Any]:
    def parse(name: str, value: str) -> Any:
        try:
            number = cast(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {value!r}") from None
        if not low <= number <= high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return number

    return parse


def _scopes(name: str, value: str) -> str:
    scopes = value.split()
    if not scopes or any(not s.isprintable() or '"' in s or "\\" in s for s in scopes):
        raise SettingsError(f"{name} must be a space-separated list of scopes")
    return " ".join(scopes)


def _keys(name: str, value: str) -> tuple[str, ...]:
    from cryptography.fernet import Fernet

    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise SettingsError(f"{name} must hold comma-separated Fernet keys") from None
    return keys


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise SettingsError naming the first bad variable."""
    env = dict(os.environ if environ is None else environ)

    def get(name: str, default: str) -> str:
        return env.get(name, default).strip()

    insecure_ok = _bool("AA_ALLOW_HTTP", get("AA_ALLOW_HTTP", "0"))
    auth_url = _url(
        "AA_AUTH_URL", get("AA_AUTH_URL", SANDBOX_AUTH_URL).rstrip("/"), insecure_ok=insecure_ok
    )
    endpoints = {
        name: _url(
            name,
            get(name, auth_url + path),
            insecure_ok=insecure_ok,
            allow_empty=name == "AA_REVOKE_URL",
        )
        for name, path in PLATFORM_PATHS
    }
    client_id = get("AA_CLIENT_ID", "")
    if not client_id:
        raise SettingsError("AA_CLIENT_ID must be set to the client id of this app")
    client_secret = env.get("AA_CLIENT_SECRET", "")
    if not client_secret:
        raise SettingsError("AA_CLIENT_SECRET must be set to this app's client secret")

    secret_key = env.get("SECRET_KEY", "")
    if not secret_key:
        if not _is_loopback(auth_url):
            raise SettingsError("SECRET_KEY must be set (a long random string) in production")
        log.warning("SECRET_KEY is not set: using the sandbox-only key")
        secret_key = SANDBOX_SECRET_KEY
    elif len(secret_key) < 32:
        raise SettingsError("SECRET_KEY must be at least 32 characters long")

    return Settings(
        aa_auth_url=auth_url,
        aa_authorize_url=endpoints["AA_AUTHORIZE_URL"],
        aa_token_url=endpoints["AA_TOKEN_URL"],
        aa_revoke_url=endpoints["AA_REVOKE_URL"],
        aa_userprofile_url=endpoints["AA_USERPROFILE_URL"],
        aa_api_url=_url(
            "AA_API_URL", get("AA_API_URL", auth_url).rstrip("/"), insecure_ok=insecure_ok
        ),
        aa_client_id=client_id,
        aa_client_secret=client_secret,
        aa_scopes=_scopes(
            "AA_SCOPES", get("AA_SCOPES", "query_userinfo manage_flightreports query_mapdata")
        ),
        aa_client_scopes=_scopes(
            "AA_CLIENT_SCOPES", get("AA_CLIENT_SCOPES", "query_mapdata query_mapairdata")
        ),
        aa_redirect_uri=_url(
            "AA_REDIRECT_URI",
            get("AA_REDIRECT_URI", "http://127.0.0.1:5000/callback"),
            insecure_ok=insecure_ok,
        ),
        aa_issuer=get("AA_ISSUER", auth_url).rstrip("/"),
        aa_require_iss=_bool("AA_REQUIRE_ISS", get("AA_REQUIRE_ISS", "0")),
        aa_use_pkce=_bool("AA_USE_PKCE", get("AA_USE_PKCE", "1")),
        redis_url=_redis_url(get("REDIS_URL", "redis://127.0.0.1:6379/0")),
        secret_key=secret_key,
        token_encryption_keys=_keys("TOKEN_ENCRYPTION_KEYS", get("TOKEN_ENCRYPTION_KEYS", "")),
        session_idle_timeout=_number(int, 60, 30 * 86400)(
            "SESSION_IDLE_TIMEOUT", get("SESSION_IDLE_TIMEOUT", "1800")
        ),
        session_absolute_timeout=_number(int, 60, 90 * 86400)(
            "SESSION_ABSOLUTE_TIMEOUT", get("SESSION_ABSOLUTE_TIMEOUT", "43200")
        ),
        refresh_margin=_number(int, 0, 3600)("REFRESH_MARGIN", get("REFRESH_MARGIN", "60")),
        http_connect_timeout=_number(float, 0.1, 30)(
            "HTTP_CONNECT_TIMEOUT", get("HTTP_CONNECT_TIMEOUT", "3")
        ),
        http_read_timeout=_number(float, 0.1, 60)(
            "HTTP_READ_TIMEOUT", get("HTTP_READ_TIMEOUT", "10")
        ),
        redis_timeout=_number(float, 0.05, 10)("REDIS_TIMEOUT", get("REDIS_TIMEOUT", "1")),
        refresh_wait=_number(float, 0.1, 20)("REFRESH_WAIT", get("REFRESH_WAIT", "5")),
        session_cookie_secure=_bool(
            "SESSION_COOKIE_SECURE",
            get("SESSION_COOKIE_SECURE", "1" if auth_url.startswith("https") else "0"),
        ),
        trust_proxy=_number(int, 0, 5)("TRUST_PROXY", get("TRUST_PROXY", "0")),
        flow_trace=_bool("FLOW_TRACE", get("FLOW_TRACE", "1" if _is_loopback(auth_url) else "0")),
    )


def _redis_url(value: str) -> str:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster"):
        raise SettingsError(f"REDIS_URL must be a redis:// or rediss:// URL, got {value!r}")
    return value

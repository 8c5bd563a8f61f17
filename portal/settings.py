"""Every setting of the client web app, read from the environment and validated at start-up."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any
from urllib.parse import urlsplit

from flask_altitudeangel import Config, ConfigError, load_config
from portal.models import BoundingBox

log = logging.getLogger(__name__)

SANDBOX_AUTH_URL = "http://127.0.0.1:5001"
# Only for the local demo against the sandbox (PORTAL_DEMO=1, which `make run` sets): a shared,
# published key lets several workers agree on CSRF signatures without any set-up. Nothing else
# may choose it: which host the authorization server is on says nothing about whether this is
# a demo (a production app may reach its server through a local proxy or tunnel).
SANDBOX_SECRET_KEY = "sandbox-only-secret-key-do-not-use-in-production"  # nosec B105

IPNetwork = IPv4Network | IPv6Network
REDIS_SCHEMES = (
    *("redis", "rediss", "unix"),
    *("redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"),
)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


# What the sign-in extension reads as AA_* keys, under the names this app's users set.
RENAMED = {
    "TOKEN_ENCRYPTION_KEYS": "AA_TOKEN_ENCRYPTION_KEYS",  # nosec B105 - setting names
    "SESSION_IDLE_TIMEOUT": "AA_SESSION_IDLE_TIMEOUT",
    "SESSION_ABSOLUTE_TIMEOUT": "AA_SESSION_ABSOLUTE_TIMEOUT",
    "REFRESH_MARGIN": "AA_REFRESH_MARGIN",
    "REFRESH_WAIT": "AA_REFRESH_WAIT",
    "HTTP_CONNECT_TIMEOUT": "AA_HTTP_CONNECT_TIMEOUT",
    "HTTP_READ_TIMEOUT": "AA_HTTP_READ_TIMEOUT",
}
ENV_NAMES = {key: name for name, key in RENAMED.items()}


@dataclass(frozen=True)
class Settings:
    """The app's configuration: the extension's (``aa``), then this app's own."""

    aa: Config  # sign-in, tokens and APIs, read from the AA_* variables and those in RENAMED
    extension: dict[str, Any]  # the same, as the app.config keys the extension reads
    redis_url: str
    secret_key: str
    redis_timeout: float
    session_cookie_secure: bool  # serve the cookie as Secure and __Host- (behind HTTPS)
    trust_proxy: int  # number of reverse proxies whose X-Forwarded-* headers are trusted
    forwarded_allow_ips: tuple[IPNetwork, ...]  # the proxies allowed to send them (gunicorn's too)
    flow_trace: bool  # record each login's steps for /flow (on by default in the demo)
    login_rate_limit: str  # /login and /callback requests per client address
    metrics_token: str  # bearer token /metrics asks for; empty: /metrics is not served
    reports_area: BoundingBox | None  # where to look for reports on a platform with no list


class _Environment:
    """Typed, validated reads of environment variables, each error naming its variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str, default: str) -> str:
        return self._env.get(name, default).strip()

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

    def networks(self, name: str, default: str) -> tuple[IPNetwork, ...]:
        """Read comma-separated addresses or CIDR networks, as gunicorn does; * is any."""
        value = self.text(name, default)
        if value == "*":
            return (ip_network("0.0.0.0/0"), ip_network("::/0"))
        try:
            return tuple(ip_network(part.strip(), strict=False) for part in value.split(","))
        except ValueError:
            raise SettingsError(f"{name} must be addresses or networks, got {value!r}") from None

    def area(self, name: str) -> BoundingBox | None:
        """Read a map box as north,east,south,west in degrees, at most 2 degrees a side."""
        value = self.text(name, "")
        if not value:
            return None
        try:
            north, east, south, west = (float(part) for part in value.split(","))
        except ValueError:
            raise SettingsError(f"{name} must be north,east,south,west in degrees") from None
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise SettingsError(f"{name} must have north above south and east of west")
        if north - south > 2 or east - west > 2:
            raise SettingsError(f"{name} may span at most 2 degrees each way, as map data does")
        return BoundingBox(north, east, south, west)

    def redis_url(self) -> str:
        value = self.text("REDIS_URL", "redis://127.0.0.1:6379/0")
        if urlsplit(value).scheme not in REDIS_SCHEMES:
            raise SettingsError(f"REDIS_URL must be a redis:// or rediss:// URL, got {value!r}")
        return value


def extension_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Return the extension's app.config keys: the AA_* variables, the renamed ones, and this
    app's defaults (the sandbox on this machine) where the extension's would be the platform's."""
    values: dict[str, Any] = {k: v for k, v in env.items() if k.startswith("AA_")}
    values.update({key: env[name] for name, key in RENAMED.items() if name in env})
    auth_url = str(values.get("AA_AUTH_URL") or SANDBOX_AUTH_URL).rstrip("/")
    values["AA_AUTH_URL"] = auth_url
    values.setdefault("AA_API_URL", auth_url)  # the sandbox serves the API too
    values.setdefault("AA_REDIRECT_URI", "http://127.0.0.1:5000/callback")
    values["AA_REDIS_KEY_PREFIX"] = "portal:"
    values["AA_AFTER_SIGN_IN"] = "/flight-reports"
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise SettingsError naming the first bad variable."""
    env = _Environment(os.environ if environ is None else environ)
    demo = env.flag("PORTAL_DEMO", "0")
    extension = extension_settings(os.environ if environ is None else environ)
    try:
        aa = load_config(extension, ENV_NAMES)
    except ConfigError as error:
        raise SettingsError(str(error)) from None
    return Settings(
        aa=aa,
        extension=extension,
        redis_url=env.redis_url(),
        secret_key=env.secret_key(demo),
        redis_timeout=env.number("REDIS_TIMEOUT", "1", 0.05, 10, float),
        session_cookie_secure=env.flag(
            "SESSION_COOKIE_SECURE", "1" if aa.auth_url.startswith("https") else "0"
        ),
        trust_proxy=env.number("TRUST_PROXY", "0", 0, 5),
        forwarded_allow_ips=env.networks("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        flow_trace=env.flag("FLOW_TRACE", "1" if demo else "0"),
        login_rate_limit=env.rate_limit("LOGIN_RATE_LIMIT", "20 per minute"),
        metrics_token=env.bearer_token("METRICS_TOKEN"),
        reports_area=env.area("REPORTS_AREA"),
    )

"""Every setting of the client web app, read from the environment and validated at start-up.

The sign-in extension's settings (the ``AA_*`` variables and those in ``RENAMED``) are handed
to it as they are: it checks them when it is bound, and the app reads them back from
``aa.config``. This module reads the app's own, with the extension's ``SettingsReader``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

from flask_altitudeangel import ConfigError, SettingsReader
from portal.models import BoundingBox

log = logging.getLogger(__name__)

SANDBOX_AUTH_URL = "http://127.0.0.1:5001"
# Only for the local demo against the sandbox (PORTAL_DEMO=1, which `make run` sets): a shared,
# published key lets several workers agree on CSRF signatures without any set-up. Nothing else
# may choose it: which host the authorization server is on says nothing about whether this is
# a demo (a production app may reach its server through a local proxy or tunnel).
SANDBOX_SECRET_KEY = "sandbox-only-secret-key-do-not-use-in-production"  # nosec B105

IPNetwork = IPv4Network | IPv6Network


class SettingsError(ValueError):
    """Settings are missing or malformed; the message names each variable."""


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
    """This app's own settings; the extension's are ``aa.config`` once it is bound."""

    extension: dict[str, Any]  # the AA_* keys of app.config, checked by the extension
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
    """Read and validate this app's settings; raise SettingsError naming every bad variable."""
    env = os.environ if environ is None else environ
    read = SettingsReader(env)
    demo = read.flag("PORTAL_DEMO", False)
    extension = extension_settings(env)
    settings = Settings(
        extension=extension,
        redis_url=read.redis_url("REDIS_URL", "redis://127.0.0.1:6379/0"),
        secret_key=_secret_key(read, env, demo),
        redis_timeout=read.redis_timeout("REDIS_TIMEOUT"),
        session_cookie_secure=read.flag(
            "SESSION_COOKIE_SECURE", extension["AA_AUTH_URL"].startswith("https:")
        ),
        trust_proxy=read.number("TRUST_PROXY", 0, 0, 5),
        forwarded_allow_ips=_networks(read, "FORWARDED_ALLOW_IPS", "127.0.0.1"),
        flow_trace=read.flag("FLOW_TRACE", demo),
        login_rate_limit=_rate_limit(read, "LOGIN_RATE_LIMIT", "20 per minute"),
        metrics_token=_bearer_token(read, "METRICS_TOKEN"),
        reports_area=_area(read, "REPORTS_AREA"),
    )
    try:
        read.check()
    except ConfigError as error:
        raise SettingsError(str(error)) from None
    return settings


def _secret_key(read: SettingsReader, env: Mapping[str, str], demo: bool) -> str:
    """SECRET_KEY, which only the local demo (PORTAL_DEMO=1) may go without."""
    if demo and not env.get("SECRET_KEY"):
        log.warning("SECRET_KEY is not set: using the published sandbox-only key")
        return SANDBOX_SECRET_KEY
    key = read.secret_key("SECRET_KEY")
    return key if isinstance(key, str) else key.decode()


def _rate_limit(read: SettingsReader, name: str, default: str) -> str:
    from limits import parse_many

    value = read.text(name, default)
    try:
        parse_many(value)
    except ValueError:
        return read.refuse(name, "must be a rate such as '20 per minute'", default)
    return value


def _bearer_token(read: SettingsReader, name: str) -> str:
    value = read.text(name, "")
    if value and (len(value) < 24 or not value.isprintable() or " " in value):
        return read.refuse(name, "must be empty or at least 24 printable characters", "")
    return value


def _networks(read: SettingsReader, name: str, default: str) -> tuple[IPNetwork, ...]:
    """Read comma-separated addresses or CIDR networks, as gunicorn does; * is any."""
    value = read.text(name, default)
    if value == "*":
        return (ip_network("0.0.0.0/0"), ip_network("::/0"))
    try:
        return tuple(ip_network(part.strip(), strict=False) for part in value.split(","))
    except ValueError:
        return read.refuse(name, f"must be addresses or networks, got {value!r}", ())


def _area(read: SettingsReader, name: str) -> BoundingBox | None:
    """Read a map box as north,east,south,west in degrees, at most 2 degrees a side."""
    value = read.text(name, "")
    if not value:
        return None
    try:
        north, east, south, west = (float(part) for part in value.split(","))
    except ValueError:
        return read.refuse(name, "must be north,east,south,west in degrees", None)
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        return read.refuse(name, "must have north above south and east of west", None)
    if north - south > 2 or east - west > 2:
        return read.refuse(name, "may span at most 2 degrees each way, as map data does", None)
    return BoundingBox(north, east, south, west)

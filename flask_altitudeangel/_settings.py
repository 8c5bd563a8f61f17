"""One reader of settings for the extension and its hosts: typed, checked, every problem named.

A reader notes each problem and goes on with the default, so that one ``ConfigError`` from
``check`` names every bad setting at once, instead of one per start-up.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from flask_altitudeangel.errors import ConfigError

T = TypeVar("T")
REDIS_SCHEMES = (
    *("redis", "rediss", "unix"),
    *("redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"),
)
REDIS_TIMEOUT = (1.0, 0.05, 10.0)  # seconds: default, lowest, highest
SECRET_KEY_LENGTH = 32  # characters, at least: it signs states and may derive the token key


def is_loopback(url: str) -> bool:
    """Tell whether ``url`` names this machine."""
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    """Tell whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SettingsReader:
    """Typed reads of settings, each problem naming the setting as the operator knows it.

    ``values`` holds the settings (``app.config``, the environment); ``names`` maps a key to
    the name the operator set it under, for messages. Each read returns its default when the
    value is bad, after noting the problem; ``check`` raises one ConfigError naming them all.
    """

    def __init__(self, values: Mapping[str, Any], names: Mapping[str, str] | None = None) -> None:
        self._values = values
        self._names = names or {}
        self.problems: list[tuple[str, str]] = []
        self.insecure_ok = self.flag("AA_ALLOW_HTTP", False)

    def refuse(self, key: str, problem: str, fallback: T) -> T:
        """Note that ``key`` is wrong, and go on with ``fallback`` to find the other problems."""
        name = self._names.get(key, key)
        if (name, problem) not in self.problems:
            self.problems.append((name, problem))
        return fallback

    def noted(self, key: str) -> bool:
        """Whether a problem with ``key`` is noted already."""
        name = self._names.get(key, key)
        return any(noted == name for noted, _ in self.problems)

    def fail(self, key: str, problem: str) -> ConfigError:
        """Return the error for one bad setting, to raise at once."""
        return ConfigError(self._names.get(key, key), problem)

    def check(self) -> None:
        """Raise one ConfigError naming every problem noted so far, if there is any."""
        if self.problems:
            raise ConfigError(*self.problems[0], *self.problems[1:])

    def text(self, key: str, default: str) -> str:
        value = self._values.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, int | float | os.PathLike) and not isinstance(value, bool):
            return str(os.fspath(value) if isinstance(value, os.PathLike) else value)
        return self.refuse(key, f"must be a string, got {type(value).__name__}", default)

    def required(self, key: str, what: str) -> str:
        value = self._values.get(key)
        if value is None or value == "":
            return self.refuse(key, f"must be set to {what}", "")
        if not isinstance(value, str):
            return self.refuse(key, f"must be a string, got {type(value).__name__}", "")
        return value

    def url(self, key: str, default: str, allow_empty: bool = False, base: bool = False) -> str:
        """Read an http(s) URL; a ``base`` URL loses its trailing slash, an endpoint keeps it."""
        value = self.text(key, default)
        if base:
            value = value.rstrip("/")
        if allow_empty and value == "":
            return value
        problem = self.url_problem(value)
        return self.refuse(key, problem, default) if problem else value

    def url_problem(self, value: str) -> str:
        """Say what is wrong with ``value`` as an endpoint: https, or http to this machine."""
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"must be an http(s) URL, got {value!r}"
        if parts.scheme == "http" and not (self.insecure_ok or is_loopback(value)):
            return "must use https unless it points at this machine (or AA_ALLOW_HTTP=1)"
        return ""

    def path(self, key: str, default: str) -> str:
        value = self.text(key, default)
        if not value.startswith("/") or value.startswith("//"):
            return self.refuse(
                key, f"must be a path on this app such as /home, got {value!r}", default
            )
        return value

    def choice(self, key: str, discovered: bool) -> bool:
        """Read ``auto`` (what the server's metadata offers), ``1`` or ``0``."""
        value = self._values.get(key)
        if not isinstance(value, bool) and self.text(key, "auto").lower() == "auto":
            return discovered
        return self.flag(key, False)

    def flag(self, key: str, default: bool) -> bool:
        value = self._values.get(key)
        if isinstance(value, bool):
            return value
        text = ("1" if default else "0") if value is None else str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        return self.refuse(key, f"must be 1 or 0, got {text!r}", default)

    def number(self, key: str, default: float, low: float, high: float, cast: type = int) -> Any:
        value = self._values.get(key)
        value = default if value is None else value
        try:
            number = cast(value)
        except (TypeError, ValueError):
            return self.refuse(key, f"must be a number, got {value!r}", cast(default))
        if not low <= number <= high:
            return self.refuse(key, f"must be between {low} and {high}, got {value}", cast(default))
        return number

    def scopes(self, key: str, default: str) -> str:
        """Read scopes: a space-separated string, or a list (or tuple) of strings."""
        value = self._values.get(key)
        if isinstance(value, list | tuple) and all(isinstance(s, str) for s in value):
            scopes = " ".join(value).split()
        elif value is None or isinstance(value, str):
            scopes = (default if value is None else value).split()
        else:
            problem = f"must be a space-separated string or a list of strings, got {value!r}"
            return self.refuse(key, problem, default)
        if not scopes or any(not s.isprintable() or '"' in s or "\\" in s for s in scopes):
            return self.refuse(key, "must be a space-separated list of scopes", default)
        return " ".join(scopes)

    def fernet_keys(self, key: str) -> tuple[str, ...]:
        value = self._values.get(key) or ()
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(k, str) for k in items):
            return self.refuse(key, "must hold comma-separated Fernet keys", ())
        keys = tuple(k.strip() for k in items if k.strip())
        for fernet_key in keys:
            try:
                Fernet(fernet_key)
            except ValueError:
                return self.refuse(key, "must hold comma-separated Fernet keys", ())
        return keys

    def redis_url(self, key: str, default: str) -> str:
        """Read a Redis URL: its scheme one the client connects with, and a host (or a path)."""
        value = self.text(key, default)
        if value == default == "":
            return value
        parts = urlsplit(value)
        if parts.scheme not in REDIS_SCHEMES:
            # Only the scheme is shown: the URL may carry a password.
            schemes = ", ".join(f"{scheme}://" for scheme in REDIS_SCHEMES)
            problem = f"must be a Redis URL ({schemes}), got one of scheme {parts.scheme!r}"
            return self.refuse(key, problem, default)
        where = parts.path if parts.scheme == "unix" else parts.netloc.rpartition("@")[2]
        if not where.strip("/:"):
            return self.refuse(
                key, f"names no {'socket path' if parts.scheme == 'unix' else 'host'}", default
            )
        return value

    def redis_timeout(self, key: str) -> float:
        """Read seconds to wait for Redis, to connect and for each command."""
        default, low, high = REDIS_TIMEOUT
        timeout: float = self.number(key, default, low, high, float)
        return timeout

    def secret_key(self, key: str) -> str | bytes:
        """Read Flask's SECRET_KEY: set, and long enough to sign with and derive keys from."""
        value = self._values.get(key)
        if not value:
            return self.refuse(key, "must be set (a long random string)", "")
        if not isinstance(value, str | bytes):
            return self.refuse(key, f"must be a string, got {type(value).__name__}", "")
        if len(value) < SECRET_KEY_LENGTH:
            return self.refuse(key, f"must be at least {SECRET_KEY_LENGTH} characters long", "")
        return value

"""Every sandbox setting with its default, read from the environment and checked at start-up."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_REGISTRY = Path(__file__).resolve().parent / "registry.json"
MAX_CODE_TTL = 60
MODES = ("aa", "aa-public", "generic")
DPOP_CHOICES = ("0", "1", "required")
JWT, OPAQUE = "jwt", "opaque"
TOKEN_FORMATS = (JWT, OPAQUE)
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Paths:
    """Where the OAuth endpoints live: Altitude Angel's paths or a generic server's."""

    authorize: str
    token: str
    revoke: str
    userinfo: str
    end_session: str
    par: str


# Positional, in the field order: authorize, token, revoke, userinfo, end_session, par.
AA_PATHS = Paths(
    "/oauth/v2/authorize",
    "/oauth/v2/token",
    "/oauth/v2/revoke",
    "/userProfile",
    "/oauth/v2/logout",
    "/oauth/v2/par",
)
GENERIC_PATHS = Paths(
    "/o/authorize/", "/o/token/", "/o/revoke/", "/o/userinfo/", "/o/logout/", "/o/par/"
)


@dataclass(frozen=True)
class Settings:
    """The sandbox's configuration, one field per ``SANDBOX_*`` variable."""

    host: str
    port: int
    redis_url: str
    issuer: str
    send_iss: bool
    access_token_ttl: int
    refresh_token_ttl: int
    code_ttl: int
    par_ttl: int
    require_par: bool
    dpop: str
    dpop_nonce: bool
    dpop_nonce_lifetime: int
    mode: str
    access_token_format: str
    faults: bool
    admin_secret: str | None
    registry_path: Path
    extra_redirect_uris: tuple[str, ...]
    extra_post_logout_redirect_uris: tuple[str, ...]
    extra_backchannel_logout_uris: tuple[str, ...]
    secret_key: str

    @property
    def generic(self) -> bool:
        """Return whether the sandbox plays a standard OAuth server rather than Altitude Angel."""
        return self.mode == "generic"

    @property
    def documented_only(self) -> bool:
        """Return whether the sandbox plays only what the platform's public documents describe."""
        return self.mode == "aa-public"

    @property
    def openid(self) -> bool:
        """Return whether the sandbox is an OpenID provider too (never in aa-public mode)."""
        return not self.documented_only

    @property
    def opaque_access_tokens(self) -> bool:
        """Return whether access tokens are random strings kept in Redis rather than JWTs."""
        return self.access_token_format == OPAQUE

    @property
    def audience(self) -> str:
        """Return the ``aud`` of access tokens: the API, which the sandbox serves itself."""
        return self.issuer

    @property
    def rotates_refresh_tokens(self) -> bool:
        """Return whether each refresh spends the refresh token and issues a new one."""
        return not self.documented_only

    @property
    def dpop_offered(self) -> bool:
        """Return whether token requests may carry DPoP proofs (never in aa-public mode)."""
        return self.dpop != "0" and not self.documented_only

    @property
    def dpop_required(self) -> bool:
        """Return whether every token request must carry a DPoP proof."""
        return self.dpop == "required" and self.dpop_offered

    @property
    def secret_methods(self) -> tuple[str, ...]:
        """Return how clients may present their secret: the platform documents the form body."""
        return ("client_secret_post",) if self.documented_only else SECRET_METHODS

    @property
    def paths(self) -> Paths:
        """Return the OAuth endpoint paths of this mode."""
        return GENERIC_PATHS if self.generic else AA_PATHS

    @property
    def iss_in_authorization_response(self) -> bool:
        """Return whether authorization responses carry the RFC 9207 ``iss`` parameter."""
        return self.send_iss and self.mode == "aa"

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` under the issuer."""
        return self.issuer.rstrip("/") + path


def _integer(env: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _flag(env: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = str(env.get(name, "1" if default else "0")).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")


def _mode(env: Mapping[str, Any]) -> str:
    mode = str(env.get("SANDBOX_MODE") or "aa")
    if mode not in MODES:
        raise SettingsError(f"SANDBOX_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _token_format(env: Mapping[str, Any], mode: str) -> str:
    value = str(env.get("SANDBOX_ACCESS_TOKEN_FORMAT") or JWT).strip().lower()
    if value not in TOKEN_FORMATS:
        choices = ", ".join(TOKEN_FORMATS)
        raise SettingsError(f"SANDBOX_ACCESS_TOKEN_FORMAT must be one of {choices}, not {value!r}")
    if value == OPAQUE and mode == "aa-public":
        raise SettingsError("SANDBOX_ACCESS_TOKEN_FORMAT=opaque: aa-public tokens are JWTs")
    return value


def _dpop(env: Mapping[str, Any]) -> str:
    value = str(env.get("SANDBOX_DPOP") or "1").strip().lower()
    if value not in DPOP_CHOICES:
        raise SettingsError(f"SANDBOX_DPOP must be one of {', '.join(DPOP_CHOICES)}, not {value!r}")
    return value


def _registry(env: Mapping[str, Any]) -> Path:
    path = Path(str(env.get("SANDBOX_REGISTRY") or DEFAULT_REGISTRY))
    if not path.is_file():
        raise SettingsError(f"SANDBOX_REGISTRY points to {path}, which is not a file")
    return path


def _redirect_uris(env: Mapping[str, Any], name: str) -> tuple[str, ...]:
    uris = tuple(str(env.get(name) or "").split())
    for uri in uris:
        if not uri.startswith(("http://", "https://")) or "#" in uri:
            raise SettingsError(f"{name} holds {uri!r}, not an http(s) URL")
    return uris


def load_settings(env: Mapping[str, Any]) -> Settings:
    """Read every setting from ``env``; raise ``SettingsError`` naming a bad variable."""
    host = str(env.get("SANDBOX_HOST") or "127.0.0.1")
    mode = _mode(env)
    port = _integer(env, "SANDBOX_PORT", 5001, 1, 65535)
    issuer = str(env.get("SANDBOX_ISSUER") or f"http://{host}:{port}").rstrip("/")
    if not issuer.startswith(("http://", "https://")):
        raise SettingsError(f"SANDBOX_ISSUER must be an http(s) URL, not {issuer!r}")
    return Settings(
        host=host,
        port=port,
        redis_url=str(env.get("SANDBOX_REDIS_URL") or "redis://127.0.0.1:6379/0"),
        issuer=issuer,
        send_iss=_flag(env, "SANDBOX_SEND_ISS", True),
        access_token_ttl=_integer(env, "SANDBOX_ACCESS_TOKEN_TTL", 900, 1, 86400),
        refresh_token_ttl=_integer(env, "SANDBOX_REFRESH_TOKEN_TTL", 30 * 86400, 1, 365 * 86400),
        code_ttl=_integer(env, "SANDBOX_CODE_TTL", MAX_CODE_TTL, 1, MAX_CODE_TTL),
        par_ttl=_integer(env, "SANDBOX_PAR_TTL", 60, 1, 600),
        require_par=_flag(env, "SANDBOX_REQUIRE_PAR", False),
        dpop=_dpop(env),
        dpop_nonce=_flag(env, "SANDBOX_DPOP_NONCE", False),
        dpop_nonce_lifetime=_integer(env, "SANDBOX_DPOP_NONCE_LIFETIME", 60, 1, 3600),
        mode=mode,
        access_token_format=_token_format(env, mode),
        faults=_flag(env, "SANDBOX_FAULTS", False),
        admin_secret=str(env.get("SANDBOX_ADMIN_SECRET") or "") or None,
        registry_path=_registry(env),
        extra_redirect_uris=_redirect_uris(env, "SANDBOX_EXTRA_REDIRECT_URIS"),
        extra_post_logout_redirect_uris=_redirect_uris(
            env, "SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS"
        ),
        extra_backchannel_logout_uris=_redirect_uris(env, "SANDBOX_EXTRA_BACKCHANNEL_LOGOUT_URIS"),
        # One process serves the sandbox, so a key made at start-up is stable for its life.
        secret_key=str(env.get("SANDBOX_SECRET_KEY") or secrets.token_urlsafe(32)),
    )

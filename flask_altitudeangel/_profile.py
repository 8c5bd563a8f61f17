"""The FAPI 2.0 Security Profile (``AA_PROFILE=fapi2``): what it asks of settings and server.

With the profile on, a setting that would weaken it is refused when the app starts, and the
settings left to the server are fixed: pushed requests, PKCE S256, DPoP, ``private_key_jwt``,
``iss`` required. The server's metadata must offer each of them, and the app uses nothing less:
no Bearer token, no unpushed request, no fallback. Each requirement and what meets it:
docs/fapi2.md.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flask_altitudeangel._settings import SettingsReader
from flask_altitudeangel.errors import ConfigError

if TYPE_CHECKING:
    from flask_altitudeangel._config import Config

FAPI2 = "fapi2"
ALGORITHMS = frozenset({"PS256", "ES256", "EdDSA"})  # the only JWS algorithms it allows
MIN_RSA_BITS = 2048
ON, OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
# Settings the profile needs on; off, each is refused.
TURNED_ON = {
    "AA_DISCOVERY": "its endpoints come from the server's metadata document only",
    "AA_PAR": "every authorization request is pushed (RFC 9126)",
    "AA_USE_PKCE": "every authorization request carries a PKCE S256 challenge",
    "AA_DPOP": "every token is bound to a key (DPoP, RFC 9449)",
    "AA_REQUIRE_ISS": "an authorization response without iss is refused (RFC 9207)",
}
# Those set to 1 when unset. AA_PAR and AA_DPOP follow the metadata (auto), which ``check``
# then requires to offer them: a server without them is named as such, not as a bad setting.
FIXED = ("AA_DISCOVERY", "AA_USE_PKCE", "AA_REQUIRE_ISS")
# Endpoint settings that, given, must say what the metadata says: the profile takes them from
# the metadata document alone.
ENDPOINTS = {
    "authorize_url": ("AA_AUTHORIZE_URL", "authorization_endpoint"),
    "token_url": ("AA_TOKEN_URL", "token_endpoint"),
    "par_url": ("AA_PAR_URL", "pushed_authorization_request_endpoint"),
    "revoke_url": ("AA_REVOKE_URL", "revocation_endpoint"),
    "end_session_url": ("AA_END_SESSION_URL", "end_session_endpoint"),
    "jwks_uri": ("AA_JWKS_URI", "jwks_uri"),
}


def settings_reader(
    values: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> SettingsReader:
    """Return a reader of ``values`` with the settings the profile fixes, and its objections
    to those that would weaken it noted (``check`` on the reader raises them)."""
    profile = str(values.get("AA_PROFILE") or "").strip().lower()
    fixed: dict[str, Any] = {}
    if profile == FAPI2:
        fixed = {key: "1" for key in FIXED if values.get(key) is None}
        if str(values.get("AA_CLIENT_AUTH") or "auto").strip() == "auto":
            fixed["AA_CLIENT_AUTH"] = "private_key_jwt"
    read = SettingsReader({**values, **fixed} if fixed else values, names)
    if profile not in ("", FAPI2):
        read.refuse("AA_PROFILE", f"must be {FAPI2} or empty, got {profile!r}", None)
    if profile == FAPI2:
        for key, problem in contradictions(values):
            read.refuse(key, problem, None)
    return read


def contradictions(values: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Yield (setting, problem) for each setting that would weaken the profile."""
    for key, need in TURNED_ON.items():
        if _is_off(values.get(key)):
            yield key, f"must not be off with AA_PROFILE={FAPI2}: {need}"
    method = str(values.get("AA_CLIENT_AUTH") or "auto").strip()
    if method not in ("auto", "private_key_jwt"):
        yield "AA_CLIENT_AUTH", f"must be private_key_jwt with AA_PROFILE={FAPI2}, not {method}"
    if not str(values.get("AA_CLIENT_KEY_FILE") or "").strip():
        yield (
            "AA_CLIENT_KEY_FILE",
            f"must name the client's private key: AA_PROFILE={FAPI2} authenticates the client "
            "with private_key_jwt, never a client secret",
        )
    if str(values.get("AA_CLIENT_SECRET") or "").strip():
        yield "AA_CLIENT_SECRET", f"must not be set with AA_PROFILE={FAPI2}: no secret is sent"
    if _is_on(values.get("AA_ALLOW_HTTP")):
        yield "AA_ALLOW_HTTP", f"must be off with AA_PROFILE={FAPI2}: every call goes over TLS"


def lacking(metadata: Mapping[str, Any]) -> list[str]:
    """List what the server's metadata lacks that the profile needs; [] when it lacks nothing."""
    if not metadata.get("issuer"):
        return ["a metadata document (RFC 8414 or OpenID Connect discovery) with its issuer"]
    missing = []
    if not metadata.get("pushed_authorization_request_endpoint"):
        missing.append("pushed_authorization_request_endpoint")
    if metadata.get("require_pushed_authorization_requests") is not True:
        missing.append("require_pushed_authorization_requests: true")
    if "S256" not in _listed(metadata, "code_challenge_methods_supported"):
        missing.append("code_challenge_methods_supported with S256")
    if "ES256" not in _listed(metadata, "dpop_signing_alg_values_supported"):
        missing.append("dpop_signing_alg_values_supported with ES256")
    if "private_key_jwt" not in _listed(metadata, "token_endpoint_auth_methods_supported"):
        missing.append("token_endpoint_auth_methods_supported with private_key_jwt")
    if metadata.get("authorization_response_iss_parameter_supported") is not True:
        missing.append("authorization_response_iss_parameter_supported: true")
    return missing


def check_server(config: Config, metadata: Mapping[str, Any]) -> None:
    """Refuse a server whose metadata lacks what the profile needs, naming what it lacks.

    Run it whenever the metadata is read, at start-up or later; ``config`` says whether the
    profile is on and which server it is.
    """
    missing = lacking(metadata) if config.profile == FAPI2 else []
    if missing:
        raise ConfigError(
            "AA_PROFILE",
            f"is {FAPI2}, but the server at {config.auth_url} does not offer " + "; ".join(missing),
        )


def check(config: Config, names: Mapping[str, str] | None = None) -> None:
    """Refuse settings, as read with the server's metadata, that fall short of the profile.

    Raises one ConfigError naming the server's shortcomings (as ``AA_PROFILE``), else every
    setting at fault.
    """
    if config.profile != FAPI2:
        return
    check_server(config, config.metadata)
    problems = [*_unused(config), *_endpoint_mismatches(config), *_key_problems(config)]
    if problems:
        shown = [((names or {}).get(key, key), problem) for key, problem in problems]
        raise ConfigError(*shown[0], *shown[1:])


def algorithms(config: Config, offered: frozenset[str]) -> frozenset[str]:
    """Return those of ``offered`` a JWT the app checks may be signed with, under the profile."""
    return offered & ALGORITHMS if config.profile == FAPI2 else offered


def bound_tokens_only(config: Config) -> bool:
    """Tell whether a token that is not DPoP-bound is refused, never used as a Bearer token."""
    return config.profile == FAPI2


def _unused(config: Config) -> Iterable[tuple[str, str]]:
    """Yield what the settings, as read, still leave out: a guard for every path to them."""
    if not config.par_url:
        yield "AA_PAR", "must be on: no endpoint for pushed authorization requests"
    if not (config.use_pkce and config.dpop and config.require_iss):
        yield "AA_PROFILE", "needs AA_USE_PKCE, AA_DPOP and AA_REQUIRE_ISS on"
    if config.client_auth != "private_key_jwt" or config.client_key is None:
        yield "AA_CLIENT_AUTH", "must be private_key_jwt, with AA_CLIENT_KEY_FILE"
    if config.issuer != str(config.metadata["issuer"]).rstrip("/"):
        yield "AA_ISSUER", "must be the issuer the metadata names, or left unset"
    scopes = config.scopes.split()
    offered = _listed(config.metadata, "id_token_signing_alg_values_supported") or ["RS256"]
    if "openid" in scopes and not ALGORITHMS & set(offered):
        yield (
            "AA_SCOPES",
            "asks for openid, but the server signs ID tokens with none of "
            + ", ".join(sorted(ALGORITHMS)),
        )


def _endpoint_mismatches(config: Config) -> Iterable[tuple[str, str]]:
    """Yield each endpoint in use that is not the one the metadata names."""
    for attribute, (key, field) in ENDPOINTS.items():
        used, published = getattr(config, attribute), config.metadata.get(field)
        if used and not published:
            yield key, f"must be empty: the server's metadata names no {field}"
        elif used and used != published:
            yield key, f"must be the {field} the metadata names ({published}), or left unset"


def _key_problems(config: Config) -> Iterable[tuple[str, str]]:
    key = config.client_key
    if key is None:
        return
    if key.alg not in ALGORITHMS:
        yield (
            "AA_CLIENT_KEY_FILE",
            f"holds a key that signs with {key.alg}; AA_PROFILE={FAPI2} allows "
            f"{', '.join(sorted(ALGORITHMS))} (an RSA key signs with PS256 unless its JWK "
            'names another "alg")',
        )
    if key.jwk.get("kty") == "RSA" and _bits(str(key.jwk.get("n") or "")) < MIN_RSA_BITS:
        yield "AA_CLIENT_KEY_FILE", f"holds an RSA key under {MIN_RSA_BITS} bits"
    signing = _listed(config.metadata, "token_endpoint_auth_signing_alg_values_supported")
    if signing and key.alg not in signing:
        yield "AA_CLIENT_KEY_FILE", f"signs with {key.alg}, which the server does not list"


def _bits(modulus: str) -> int:
    return len(base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))) * 8


def _listed(metadata: Mapping[str, Any], field: str) -> list[str]:
    value = metadata.get(field)
    return [str(item) for item in value] if isinstance(value, list) else []


def _is_off(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in OFF)


def _is_on(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ON)

"""The extension's settings: ``AA_*`` keys of ``app.config``, each checked when the app starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask_altitudeangel import _profile
from flask_altitudeangel._client_key import ClientKey, read_client_key
from flask_altitudeangel._settings import SettingsReader, is_loopback, is_loopback_host

__all__ = ["Config", "SettingsReader", "is_loopback", "is_loopback_host", "load_config"]

PLATFORM_AUTH_URL = "https://auth.altitudeangel.com"
PLATFORM_API_URL = "https://api.altitudeangel.com"
# The platform's documented paths, used wherever an endpoint is not given.
PLATFORM_PATHS = {
    "AA_AUTHORIZE_URL": "/oauth/v2/authorize",
    "AA_TOKEN_URL": "/oauth/v2/token",  # nosec B105 - a path, not a secret
    "AA_USERPROFILE_URL": "/userProfile",
}
SIGN_IN_SCOPES = "query_userinfo manage_flightreports query_mapdata"
CLIENT_SCOPES = "query_mapdata query_mapairdata"
METHOD_SECRET = "client_secret_post"  # nosec B105 - the name of a method
METADATA_PAR_URL = "the metadata's pushed_authorization_request_endpoint"


@dataclass(frozen=True)
class Config:
    """Everything the extension needs to know, read once from ``app.config``."""

    auth_url: str  # base of the authorization server
    authorize_url: str
    token_url: str
    revoke_url: str  # empty: no revocation
    end_session_url: str  # empty: no RP-Initiated Logout
    userprofile_url: str
    api_url: str  # base of the flight reports and map data API
    client_id: str
    client_secret: str
    scopes: str  # asked for at sign-in
    client_scopes: str  # of the client-credentials token
    redirect_uri: str  # a constant, never derived from a request
    post_logout_redirect_uri: str
    issuer: str  # expected RFC 9207 `iss`; empty skips the check
    require_iss: bool
    use_pkce: bool
    token_encryption_keys: tuple[str, ...]  # Fernet keys: the first encrypts, all decrypt
    session_idle_timeout: int
    session_absolute_timeout: int
    refresh_margin: int
    refresh_wait: float
    http_connect_timeout: float
    http_read_timeout: float
    redis_key_prefix: str
    after_sign_in: str  # the page a sign-in returns to when it was not asked for another
    metadata: Mapping[str, Any] = field(default_factory=dict)  # the server's, when it has any
    dpop: bool = False  # bind tokens to a key per login (RFC 9449)
    par_url: str = ""  # push authorization requests there first (RFC 9126); empty: don't
    client_auth: str = "client_secret_post"  # or "private_key_jwt" (RFC 7523)
    client_key: ClientKey | None = None  # for private_key_jwt
    jwks_uri: str = ""  # the provider's signing keys, for ID and logout tokens; empty: none
    redis_url: str = ""  # where the extension's state is, unless a client is given
    redis_timeout: float = 1.0  # seconds, to connect to Redis and for each command
    profile: str = ""  # "fapi2": the FAPI 2.0 Security Profile, see _profile.py

    @property
    def origin(self) -> str:
        """Return the app's public origin: that of its redirect URI."""
        return origin_of(self.redirect_uri)


def origin_of(url: str) -> str:
    """Return the scheme and host of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _par_url(read: SettingsReader, metadata: Mapping[str, Any], known: bool) -> str:
    """Pick the endpoint authorization requests are pushed to (RFC 9126), if any.

    It receives the client's credentials: one the metadata names is held to the rule every
    endpoint is, https (or http to this machine). Before the metadata is ``known``, AA_PAR=1
    without AA_PAR_URL waits for the endpoint it may name.
    """
    offered = str(metadata.get("pushed_authorization_request_endpoint") or "")
    explicit = read.url("AA_PAR_URL", "", allow_empty=True)
    if not read.choice("AA_PAR", bool(offered)):
        return ""
    if explicit or not known:
        return explicit
    if not offered:
        return read.refuse("AA_PAR", "is 1, but neither AA_PAR_URL nor the metadata names one", "")
    problem = read.url_problem(offered)
    return read.refuse(METADATA_PAR_URL, problem, "") if problem else offered


def _client_auth(read: SettingsReader, metadata: Mapping[str, Any]) -> tuple[str, ClientKey | None]:
    """Pick client authentication: private_key_jwt needs a key and the server's word."""
    path = read.text("AA_CLIENT_KEY_FILE", "")
    # FAPI 2.0 allows no RS256: an RSA key without an "alg" of its own signs with PS256 there
    rsa_alg = "PS256" if read.text("AA_PROFILE", "").lower() == _profile.FAPI2 else "RS256"
    try:
        key = read_client_key(path, rsa_alg) if path else None
    except ValueError as unreadable:
        key = read.refuse("AA_CLIENT_KEY_FILE", str(unreadable), None)
    method = read.text("AA_CLIENT_AUTH", "auto")
    if method == "auto":
        offered = metadata.get("token_endpoint_auth_methods_supported") or []
        method = "private_key_jwt" if key and "private_key_jwt" in offered else METHOD_SECRET
    if method not in (METHOD_SECRET, "private_key_jwt"):
        known = "must be auto, client_secret_post or private_key_jwt"
        method = read.refuse("AA_CLIENT_AUTH", known, METHOD_SECRET)
    if method == "private_key_jwt" and not (key or path or read.noted("AA_CLIENT_KEY_FILE")):
        read.refuse("AA_CLIENT_KEY_FILE", "must name the key file private_key_jwt signs with", "")
    return method, key


def _jwks_uri(read: SettingsReader, metadata_known: bool) -> str:
    """Read the provider's key set URL, which a sign-in asking for ``openid`` needs.

    Before the server's metadata is known, its ``jwks_uri`` may yet supply it.
    """
    value = read.url("AA_JWKS_URI", "", allow_empty=True)
    if (
        not value
        and metadata_known
        and "openid" in read.scopes("AA_SCOPES", SIGN_IN_SCOPES).split()
    ):
        problem = "must be set when AA_SCOPES asks for openid: ID tokens are checked"
        return read.refuse("AA_JWKS_URI", problem, "")
    return value


def load_config(
    values: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
    url_prefix: str = "",
    metadata: Mapping[str, Any] | None = None,
) -> Config:
    """Read and check the settings; raise one ConfigError naming every bad one.

    ``names`` maps a key to the name the operator set it under (an environment variable, say),
    for the error message; ``url_prefix`` is where the sign-in routes are mounted.
    """
    read = _profile.settings_reader(values, names)  # SettingsReader, and what a profile fixes
    config = read_config(read, url_prefix, metadata)
    read.check()
    return config


def read_config(
    read: SettingsReader, url_prefix: str = "", metadata: Mapping[str, Any] | None = None
) -> Config:
    """Read the settings through ``read``, which notes every problem (see ``read.check``)."""
    auth_url = read.url("AA_AUTH_URL", PLATFORM_AUTH_URL, base=True)
    endpoints = {key: read.url(key, auth_url + path) for key, path in PLATFORM_PATHS.items()}
    registered = read.required("AA_REDIRECT_URI", "the callback URL registered for this app")
    redirect_uri = read.url("AA_REDIRECT_URI", "") if registered else ""
    meta = dict(metadata or {})
    client_auth, client_key = _client_auth(read, meta)
    # Before the server's metadata is known (metadata None), a key may yet be the way in.
    secret_optional = client_auth == "private_key_jwt" or (metadata is None and client_key)
    return Config(
        auth_url=auth_url,
        authorize_url=endpoints["AA_AUTHORIZE_URL"],
        token_url=endpoints["AA_TOKEN_URL"],
        # The platform documents none: only the metadata, or the setting, names one.
        revoke_url=read.url("AA_REVOKE_URL", "", allow_empty=True),
        end_session_url=read.url("AA_END_SESSION_URL", "", allow_empty=True),
        userprofile_url=endpoints["AA_USERPROFILE_URL"],
        api_url=read.url("AA_API_URL", PLATFORM_API_URL, base=True),
        client_id=read.required("AA_CLIENT_ID", "the client id of this app"),
        client_secret=(
            read.text("AA_CLIENT_SECRET", "")
            if secret_optional
            else read.required("AA_CLIENT_SECRET", "this app's client secret")
        ),
        scopes=read.scopes("AA_SCOPES", SIGN_IN_SCOPES),
        client_scopes=read.scopes("AA_CLIENT_SCOPES", CLIENT_SCOPES),
        redirect_uri=redirect_uri,
        post_logout_redirect_uri=read.url(
            "AA_POST_LOGOUT_REDIRECT_URI",
            origin_of(redirect_uri) + url_prefix + "/signed-out" if redirect_uri else "",
            allow_empty=not redirect_uri,  # its default needs AA_REDIRECT_URI, named already
        ),
        issuer=read.text("AA_ISSUER", auth_url).rstrip("/"),
        require_iss=read.flag("AA_REQUIRE_ISS", False),
        use_pkce=read.flag("AA_USE_PKCE", True),
        token_encryption_keys=read.fernet_keys("AA_TOKEN_ENCRYPTION_KEYS"),
        session_idle_timeout=read.number("AA_SESSION_IDLE_TIMEOUT", 1800, 60, 30 * 86400),
        session_absolute_timeout=read.number("AA_SESSION_ABSOLUTE_TIMEOUT", 43200, 60, 90 * 86400),
        refresh_margin=read.number("AA_REFRESH_MARGIN", 60, 0, 3600),
        refresh_wait=read.number("AA_REFRESH_WAIT", 5, 0.1, 20, float),
        http_connect_timeout=read.number("AA_HTTP_CONNECT_TIMEOUT", 3, 0.1, 30, float),
        http_read_timeout=read.number("AA_HTTP_READ_TIMEOUT", 10, 0.1, 60, float),
        redis_key_prefix=read.text("AA_REDIS_KEY_PREFIX", "altitudeangel:"),
        after_sign_in=read.path("AA_AFTER_SIGN_IN", "/"),
        metadata=meta,
        dpop=read.choice("AA_DPOP", "ES256" in meta.get("dpop_signing_alg_values_supported", [])),
        par_url=_par_url(read, meta, metadata is not None),
        client_auth=client_auth,
        client_key=client_key,
        jwks_uri=_jwks_uri(read, metadata is not None),
        redis_url=read.redis_url("AA_REDIS_URL", ""),
        redis_timeout=read.redis_timeout("AA_REDIS_TIMEOUT"),
        profile=read.text("AA_PROFILE", "").lower(),
    )

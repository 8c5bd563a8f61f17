"""Endpoint discovery: read the authorization server's metadata (RFC 8414, else OpenID Connect
Discovery), and fill in whatever the settings leave out. When it is read: ``_endpoints.py``.

The real platform publishes no metadata: a 404 at both addresses means its documented paths.
Metadata naming another issuer than the URL it was fetched for is refused (RFC 8414 §3.3): it
could send the app's users and client secret to someone else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from flask_altitudeangel.errors import ConfigError

log = logging.getLogger("flask_altitudeangel")
# Metadata field -> the setting it fills when the setting is not given.
ENDPOINTS = {
    "authorization_endpoint": "AA_AUTHORIZE_URL",
    "token_endpoint": "AA_TOKEN_URL",  # nosec B105 - a setting name
    "revocation_endpoint": "AA_REVOKE_URL",
    "end_session_endpoint": "AA_END_SESSION_URL",
    "userinfo_endpoint": "AA_USERPROFILE_URL",
    "jwks_uri": "AA_JWKS_URI",
}


def metadata_urls(issuer: str) -> list[str]:
    """Return where an issuer's metadata may be: RFC 8414 §3.1 first, then OIDC Discovery."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    rfc8414 = urlunsplit(
        (parts.scheme, parts.netloc, "/.well-known/oauth-authorization-server" + path, "", "")
    )
    return [rfc8414, issuer.rstrip("/") + "/.well-known/openid-configuration"]


class MetadataUnavailable(Exception):
    """The server did not answer for its metadata, or answered 5xx or 429: ask again later."""


def fetch_metadata(issuer: str, timeout: float) -> dict[str, Any]:
    """Return the issuer's metadata, or {} when it publishes none (404 at both addresses).

    One attempt: raises MetadataUnavailable when the server cannot answer now, ConfigError
    when what it publishes cannot be used.
    """
    try:
        return _first_document(issuer, timeout)
    except (requests.ConnectionError, requests.Timeout) as error:
        raise MetadataUnavailable(
            f"AA_AUTH_URL did not answer for its metadata ({type(error).__name__})"
        ) from None


def _first_document(issuer: str, timeout: float) -> dict[str, Any]:
    session = requests.Session()
    session.trust_env = False
    for url in metadata_urls(issuer):
        answer = session.get(url, timeout=timeout, headers={"Accept": "application/json"})
        if answer.status_code in (404, 405, 410):
            continue
        if answer.status_code == 429 or answer.status_code >= 500:
            raise MetadataUnavailable(f"AA_AUTH_URL answered {answer.status_code} for {url}")
        try:
            document = answer.json()
        except ValueError:
            raise ConfigError(
                "AA_AUTH_URL", f"published metadata that is not JSON at {url}"
            ) from None
        if answer.status_code != 200 or not isinstance(document, dict):
            raise ConfigError("AA_AUTH_URL", f"answered {answer.status_code} for {url}")
        if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
            raise ConfigError(
                "AA_AUTH_URL",
                f"publishes metadata for another issuer ({document.get('issuer')!r}): refused, "
                "as RFC 8414 §3.3 requires",
            )
        log.info("event=metadata_read url=%s", url)
        return document
    return {}


def settings_from(metadata: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Return the settings the metadata supplies, for those ``given`` does not set."""
    found: dict[str, Any] = {}
    for field, key in ENDPOINTS.items():
        if isinstance(metadata.get(field), str) and key not in given:
            found[key] = metadata[field]
    if "issuer" in metadata and "AA_ISSUER" not in given:
        found["AA_ISSUER"] = metadata["issuer"]
    methods = metadata.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods and "AA_USE_PKCE" not in given:
        found["AA_USE_PKCE"] = False
    if metadata.get("authorization_response_iss_parameter_supported") is True:
        found.setdefault("AA_REQUIRE_ISS", given.get("AA_REQUIRE_ISS", True))
    return found

"""Validate a client registration sent to the admin API; collect every field's problem at once."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from altitudeangel_sandbox.errors import InvalidInput
from altitudeangel_sandbox.oauth.clients import PRIVATE_KEY_JWT, PUBLIC
from altitudeangel_sandbox.settings import SECRET_METHODS

CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,100}$")
MAX_URIS = 20
FLAGS = ("dpop_bound_access_tokens", "require_pushed_authorization_requests")
METHODS = (*SECRET_METHODS, PRIVATE_KEY_JWT, PUBLIC)
MAX_KEYS = 10
PROBLEMS = {"public": "a public client has none", "length": "must be 8 to 200 characters"}


def is_redirect_uri(value: Any) -> bool:
    """Return whether ``value`` is an absolute http(s) URL without a fragment."""
    if not isinstance(value, str) or len(value) > 2000:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and "#" not in value


def _uris(body: dict[str, Any], name: str, fields: dict[str, str]) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or len(value) > MAX_URIS or not all(map(is_redirect_uri, value)):
        fields[name] = f"must be a list of at most {MAX_URIS} absolute http(s) URLs"
        return []
    return list(dict.fromkeys(value))


def _scopes(body: dict[str, Any], known: Collection[str], fields: dict[str, str]) -> list[str]:
    value = body.get("scopes")
    if not isinstance(value, list) or not value or not all(item in known for item in value):
        fields["scopes"] = f"must be a non-empty list of: {', '.join(sorted(known))}"
        return []
    return list(dict.fromkeys(value))


def parse_jwks(value: Any) -> dict[str, Any]:
    """Return a JWK Set of public RSA, EC or OKP keys, each with a kid; else raise ValueError."""
    keys = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYS:
        raise ValueError(f'must be a JWK Set: {{"keys": [1 to {MAX_KEYS} keys]}}')
    try:
        key_set = KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError, KeyError):
        raise ValueError("holds a key that is not a valid JWK") from None
    if any(found.key_type not in ("RSA", "EC", "OKP") for found in key_set.keys):
        raise ValueError("may hold only RSA, EC or OKP keys")
    if any(found.is_private for found in key_set.keys):
        raise ValueError("must hold public keys only: never send a private key")
    return {"keys": [found.as_dict(private=False) for found in key_set.keys]}


def _jwks(body: dict[str, Any], method: Any, fields: dict[str, str]) -> dict[str, Any] | None:
    if "jwks" not in body:
        if method == PRIVATE_KEY_JWT:
            fields["jwks"] = "is required for private_key_jwt"
        return None
    if method == PUBLIC:
        fields["jwks"] = "a public client has no keys"
        return None
    try:
        return parse_jwks(body["jwks"])
    except ValueError as problem:
        fields["jwks"] = str(problem)
        return None


def _backchannel(body: dict[str, Any], fields: dict[str, str]) -> str | None:
    uri = body.get("backchannel_logout_uri")
    if uri is not None and not is_redirect_uri(uri):
        fields["backchannel_logout_uri"] = "must be an absolute http(s) URL without a fragment"
        return None
    return str(uri) if uri is not None else None


def _secret(body: dict[str, Any], method: Any, fields: dict[str, str]) -> str | None:
    secret = body.get("client_secret")
    if method == PRIVATE_KEY_JWT and secret is None:
        return None
    if method == PUBLIC:
        if secret is not None:
            fields["client_secret"] = PROBLEMS["public"]
        return None
    if secret is None:
        return secrets.token_urlsafe(32)
    if not isinstance(secret, str) or not 8 <= len(secret) <= 200:
        fields["client_secret"] = PROBLEMS["length"]
    return str(secret)


def _identity(body: dict[str, Any], fields: dict[str, str]) -> tuple[str, str]:
    client_id, name = body.get("client_id"), body.get("name", body.get("client_id"))
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        fields["client_id"] = "must be 1 to 100 letters, digits or . _ ~ -"
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        fields["name"] = "must be 1 to 100 characters"
    return str(client_id), str(name).strip()


def parse_client(
    body: dict[str, Any], known_scopes: Collection[str]
) -> tuple[dict[str, Any], str | None]:
    """Return the client's registry record and its secret, or raise naming each bad field."""
    fields: dict[str, str] = {}
    client_id, name = _identity(body, fields)
    method = body.get("token_endpoint_auth_method", "client_secret_post")
    if method not in METHODS:
        fields["token_endpoint_auth_method"] = f"must be one of {', '.join(METHODS)}"
    record: dict[str, Any] = {
        "client_id": client_id,
        "name": name,
        "scopes": _scopes(body, known_scopes, fields),
        "redirect_uris": _uris(body, "redirect_uris", fields),
        "post_logout_redirect_uris": _uris(body, "post_logout_redirect_uris", fields),
        "token_endpoint_auth_method": method,
    }
    for flag in FLAGS:
        if not isinstance(body.get(flag, False), bool):
            fields[flag] = "must be true or false"
        record[flag] = body.get(flag, False)
    secret = _secret(body, method, fields)
    jwks = _jwks(body, method, fields)
    backchannel = _backchannel(body, fields)
    if fields:
        raise InvalidInput(fields)
    if jwks is not None:
        record["jwks"] = jwks
    if backchannel is not None:
        record["backchannel_logout_uri"] = backchannel
    if secret is not None:
        record["client_secret_sha256"] = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    return record, secret

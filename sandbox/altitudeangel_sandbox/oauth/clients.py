"""Registered clients as Authlib queries them, built from the registry file or the admin API."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError

from altitudeangel_sandbox.settings import SECRET_METHODS
from altitudeangel_sandbox.store import key

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
PUBLIC = "none"
PRIVATE_KEY_JWT = "private_key_jwt"
CREDENTIAL_METHODS = (*SECRET_METHODS, PRIVATE_KEY_JWT)
# Every way the token endpoint knows; each client accepts only its own. "none" comes last.
TOKEN_AUTH_METHODS = (*CREDENTIAL_METHODS, PUBLIC)
JWKS = "jwks"
ADDITIONS_TTL = 7 * 86400
REDIRECT_URIS = "redirect-uris"
POST_LOGOUT_REDIRECT_URIS = "post-logout-redirect-uris"
BACKCHANNEL_LOGOUT_URIS = "backchannel-logout-uris"
OPENID = "openid"


class ClientAdditions:
    """What the admin API added to registered clients, kept in Redis for a week."""

    def __init__(self, db: redis.Redis):
        self._db = db

    def add(self, kind: str, client_id: str, uri: str) -> None:
        """Register one more URI of ``kind`` for a client (tests run on random ports)."""
        name = key(kind, client_id)
        with self._db.pipeline() as pipe:
            pipe.sadd(name, uri)
            pipe.expire(name, ADDITIONS_TTL)
            pipe.execute()

    def has(self, kind: str, client_id: str, uri: str) -> bool:
        """Return whether ``uri`` was added as a URI of ``kind`` for the client."""
        return bool(self._db.sismember(key(kind, client_id), uri))

    def all(self, kind: str, client_id: str) -> list[str]:
        """Return every URI of ``kind`` added for the client."""
        return sorted(str(uri) for uri in self._db.smembers(key(kind, client_id)))

    def set_jwks(self, client_id: str, jwks: dict[str, Any]) -> None:
        """Register the public keys a client signs its assertions with, replacing any before."""
        self._db.set(key(JWKS, client_id), json.dumps(jwks), ex=ADDITIONS_TTL)

    def jwks(self, client_id: str) -> dict[str, Any] | None:
        """Return the JWK Set the admin API registered for the client, if any."""
        stored = self._db.get(key(JWKS, client_id))
        return dict(json.loads(str(stored))) if stored else None


@dataclass(frozen=True)
class ClientDefaults:
    """What the settings give every client: extra URIs (docker-compose), how secrets travel,
    and whether it may ask for ``openid`` (not in aa-public mode, whatever its registration says).
    """

    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uris: tuple[str, ...] = ()
    secret_methods: tuple[str, ...] = SECRET_METHODS
    assertions: bool = True
    openid: bool = True

    def known_scopes(self, scopes: Iterable[str]) -> tuple[str, ...]:
        """Return ``scopes`` without ``openid`` where the sandbox is no OpenID provider."""
        return tuple(scope for scope in scopes if self.openid or scope != OPENID)


@dataclass(frozen=True)
class Client(ClientMixin):
    """A registered client, confidential (a secret) or public (none), as Authlib's grants see it."""

    client_id: str
    name: str
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uris: tuple[str, ...]
    secret_sha256: str | None
    token_endpoint_auth_method: str
    dpop_bound_access_tokens: bool
    require_pushed_authorization_requests: bool
    secret_methods: tuple[str, ...]
    assertions: bool
    registered_jwks: dict[str, Any] | None
    added: ClientAdditions

    @property
    def is_public(self) -> bool:
        """Return whether the client has no credentials (RFC 6749 §2.1)."""
        return self.token_endpoint_auth_method == PUBLIC

    @property
    def client_metadata(self) -> dict[str, Any]:
        """Return the RFC 7591 metadata Authlib's end-session endpoint reads."""
        added = self.added.all(POST_LOGOUT_REDIRECT_URIS, self.client_id)
        return {"post_logout_redirect_uris": [*self.post_logout_redirect_uris, *added]}

    def all_backchannel_logout_uris(self) -> list[str]:
        """Return where the client is told a user's sandbox session ended: its own, then added."""
        added = self.added.all(BACKCHANNEL_LOGOUT_URIS, self.client_id)
        return list(dict.fromkeys([*self.backchannel_logout_uris, *added]))

    def public_jwks(self) -> dict[str, Any] | None:
        """Return the keys that verify the client's assertions: the admin API's, else its own."""
        return self.added.jwks(self.client_id) or self.registered_jwks

    def get_client_id(self) -> str:
        """Return the client's identifier."""
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """Return nothing: every authorization request must name its redirect URI."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Return the requested scope normalised; refuse a missing or undeclared one."""
        requested = list(dict.fromkeys((scope or "").split()))
        if not requested:
            raise InvalidScopeError("The 'scope' parameter is required.")
        undeclared = [item for item in requested if item not in self.scopes]
        if undeclared:
            raise InvalidScopeError(f"Scope not allowed for this client: {' '.join(undeclared)}")
        return " ".join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Return whether ``redirect_uri`` exactly matches one registered for the client."""
        if redirect_uri in self.redirect_uris:
            return True
        return self.added.has(REDIRECT_URIS, self.client_id, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare the secret's digest with the registered one in constant time."""
        if self.secret_sha256 is None:
            return False
        candidate = hashlib.sha256(client_secret.encode("utf-8")).hexdigest()
        return hmac.compare_digest(candidate, self.secret_sha256)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Accept what the client has: its secret as the settings allow, its keys, or none."""
        if method == PUBLIC:
            return self.is_public
        if method == PRIVATE_KEY_JWT:
            return self.assertions and self.public_jwks() is not None
        return self.secret_sha256 is not None and method in self.secret_methods

    def check_response_type(self, response_type: str) -> bool:
        """Allow the authorization code flow only."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Allow the platform's three grants; a public client has no client credentials."""
        if self.is_public and grant_type == "client_credentials":
            return False
        return grant_type in GRANT_TYPES


def client_from_record(
    item: dict[str, Any], defaults: ClientDefaults, added: ClientAdditions
) -> Client:
    """Build a client from its registry record (the file's or the admin API's)."""
    return Client(
        client_id=item["client_id"],
        name=item.get("name") or item["client_id"],
        scopes=defaults.known_scopes(item["scopes"]),
        redirect_uris=tuple(item.get("redirect_uris", ())) + defaults.redirect_uris,
        post_logout_redirect_uris=tuple(item.get("post_logout_redirect_uris", ()))
        + defaults.post_logout_redirect_uris,
        backchannel_logout_uris=tuple(
            [item["backchannel_logout_uri"]] if item.get("backchannel_logout_uri") else []
        )
        + defaults.backchannel_logout_uris,
        secret_sha256=item.get("client_secret_sha256"),
        token_endpoint_auth_method=item.get("token_endpoint_auth_method", "client_secret_post"),
        dpop_bound_access_tokens=bool(item.get("dpop_bound_access_tokens", False)),
        require_pushed_authorization_requests=bool(
            item.get("require_pushed_authorization_requests", False)
        ),
        secret_methods=defaults.secret_methods,
        assertions=defaults.assertions,
        registered_jwks=item.get("jwks"),
        added=added,
    )

"""The demo users and clients, loaded from the JSON registry, and their extra redirect URIs."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError
from werkzeug.security import check_password_hash

from sandbox.store import key

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
REDIRECT_URI_TTL = 7 * 86400
REDIRECT_URIS = "redirect-uris"
POST_LOGOUT_REDIRECT_URIS = "post-logout-redirect-uris"


class AddedURIs:
    """Exact URIs the admin API added to registered clients, kept in Redis for a week."""

    def __init__(self, db: redis.Redis):
        self._db = db

    def add(self, kind: str, client_id: str, uri: str) -> None:
        """Register one more URI of ``kind`` for a client (tests run on random ports)."""
        name = key(kind, client_id)
        with self._db.pipeline() as pipe:
            pipe.sadd(name, uri)
            pipe.expire(name, REDIRECT_URI_TTL)
            pipe.execute()

    def has(self, kind: str, client_id: str, uri: str) -> bool:
        """Return whether ``uri`` was added as a URI of ``kind`` for the client."""
        return bool(self._db.sismember(key(kind, client_id), uri))

    def all(self, kind: str, client_id: str) -> list[str]:
        """Return every URI of ``kind`` added for the client."""
        return sorted(str(uri) for uri in self._db.smembers(key(kind, client_id)))


@dataclass(frozen=True)
class ClientDefaults:
    """What the settings give every client: extra URIs (docker-compose), how secrets travel."""

    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    secret_methods: tuple[str, ...] = AUTH_METHODS


@dataclass(frozen=True)
class User:
    """A sandbox account: a login name, a hashed password and the profile the API returns."""

    username: str
    password_hash: str
    profile: dict[str, Any]

    @property
    def aa_id(self) -> str:
        """Return the platform-wide user id used as the token subject."""
        return str(self.profile["aa_id"])

    def check_password(self, password: str) -> bool:
        """Return whether ``password`` is this user's."""
        return check_password_hash(self.password_hash, password)


@dataclass(frozen=True)
class Client(ClientMixin):
    """A registered confidential client, as Authlib's grants expect to query it."""

    client_id: str
    secret_sha256: str
    name: str
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    auth_methods: tuple[str, ...]
    added: AddedURIs

    @property
    def client_metadata(self) -> dict[str, Any]:
        """Return the RFC 7591 metadata Authlib's end-session endpoint reads."""
        added = self.added.all(POST_LOGOUT_REDIRECT_URIS, self.client_id)
        return {"post_logout_redirect_uris": [*self.post_logout_redirect_uris, *added]}

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

    def check_post_logout_redirect_uri(self, uri: str) -> bool:
        """Return whether ``uri`` exactly matches a post-logout redirect URI of the client."""
        if uri in self.post_logout_redirect_uris:
            return True
        return self.added.has(POST_LOGOUT_REDIRECT_URIS, self.client_id, uri)

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare the secret's digest with the registered one in constant time."""
        candidate = hashlib.sha256(client_secret.encode("utf-8")).hexdigest()
        return hmac.compare_digest(candidate, self.secret_sha256)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Accept the secret as the settings allow (body, Basic), nothing weaker."""
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        """Allow the authorization code flow only."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Allow the three grants the platform offers."""
        return grant_type in GRANT_TYPES


class Registry:
    """Users, clients and scope descriptions, with redirect URIs added at run time in Redis."""

    def __init__(self, data: dict[str, Any], defaults: ClientDefaults, db: redis.Redis):
        self.added = AddedURIs(db)
        self.scopes: dict[str, str] = dict(data["scopes"])
        self.users = {
            item["username"]: User(item["username"], item["password_hash"], dict(item["profile"]))
            for item in data["users"]
        }
        self.clients = {
            item["client_id"]: Client(
                client_id=item["client_id"],
                secret_sha256=item["client_secret_sha256"],
                name=item["name"],
                scopes=tuple(item["scopes"]),
                redirect_uris=tuple(item["redirect_uris"]) + defaults.redirect_uris,
                post_logout_redirect_uris=tuple(item.get("post_logout_redirect_uris", ()))
                + defaults.post_logout_redirect_uris,
                auth_methods=defaults.secret_methods,
                added=self.added,
            )
            for item in data["clients"]
        }

    @classmethod
    def load(cls, path: Path, defaults: ClientDefaults, db: redis.Redis) -> Registry:
        """Read the registry file at ``path``."""
        return cls(json.loads(path.read_text(encoding="utf-8")), defaults, db)

    def client(self, client_id: str | None) -> Client | None:
        """Return the client called ``client_id``, if registered."""
        return self.clients.get(client_id or "")

    def user(self, username: str | None) -> User | None:
        """Return the user called ``username``, if registered."""
        return self.users.get(username or "")

    def user_by_aa_id(self, aa_id: str) -> User | None:
        """Return the user whose platform id is ``aa_id``."""
        return next((user for user in self.users.values() if user.aa_id == aa_id), None)

    def authenticate(self, username: str, password: str) -> User | None:
        """Return the user if ``password`` is right, else nothing."""
        user = self.user(username)
        return user if user is not None and user.check_password(password) else None

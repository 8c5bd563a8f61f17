"""The demo users and clients: from the JSON registry file, plus clients the admin API adds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from werkzeug.security import check_password_hash

from altitudeangel_sandbox.oauth.clients import (
    ADDITIONS_TTL,
    Client,
    ClientAdditions,
    ClientDefaults,
    client_from_record,
)
from altitudeangel_sandbox.store import key


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


def _client_key(client_id: str) -> str:
    return key("client", client_id)


class Registry:
    """Users, clients and scope descriptions; clients and URIs added at run time live in Redis."""

    def __init__(self, data: dict[str, Any], defaults: ClientDefaults, db: redis.Redis):
        self._db = db
        self._defaults = defaults
        self.added = ClientAdditions(db)
        known = defaults.known_scopes(data["scopes"])
        self.scopes: dict[str, str] = {name: data["scopes"][name] for name in known}
        self.users = {
            item["username"]: User(item["username"], item["password_hash"], dict(item["profile"]))
            for item in data["users"]
        }
        self.clients = {
            item["client_id"]: client_from_record(item, defaults, self.added)
            for item in data["clients"]
        }

    @classmethod
    def load(cls, path: Path, defaults: ClientDefaults, db: redis.Redis) -> Registry:
        """Read the registry file at ``path``."""
        return cls(json.loads(path.read_text(encoding="utf-8")), defaults, db)

    def client(self, client_id: str | None) -> Client | None:
        """Return the client called ``client_id``, from the file or the admin API."""
        if not client_id:
            return None
        found = self.clients.get(client_id)
        if found is not None:
            return found
        record = self._db.get(_client_key(client_id))
        if record is None:
            return None
        return client_from_record(json.loads(str(record)), self._defaults, self.added)

    def register(self, record: dict[str, Any]) -> bool:
        """Add a client for a week; return False if one of that id exists already."""
        if record["client_id"] in self.clients:
            return False
        name = _client_key(record["client_id"])
        return bool(self._db.set(name, json.dumps(record), nx=True, ex=ADDITIONS_TTL))

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

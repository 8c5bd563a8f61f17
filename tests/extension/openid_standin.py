"""A stand-in OpenID provider over real HTTP: discovery, its keys, authorize, token, revocation.

The sandbox (tests/extension/test_openid_sandbox.py) and oidc-provider (tests/interop) sign
only what they should: these tests need tokens signed wrongly on purpose. This server signs ID
and logout tokens with keys it publishes at ``/jwks``, lets a test reshape the next ID token
(``reshape``), and does nothing else of a provider's work: no sign-in page (authorize answers
at once, as ``identity``), no checks of the client.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jws
from joserfc.jwk import Key, RSAKey

CLIENT_ID = "standin-client"
CLIENT_SECRET = "standin-secret-" + "s" * 24  # noqa: S105 - a test client's
# (claims, header) -> the ID token to send, or None to send none; the default signs them.
Reshape = Callable[[dict[str, Any], dict[str, Any]], str | None]


def half_hash(value: str) -> str:
    """at_hash of ``value`` for RS256 and ES256, written here apart from the extension's."""
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def new_key(kid: str) -> Key:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


@dataclass
class Grant:
    sub: str
    sid: str
    nonce: str | None
    scope: str


@dataclass
class StandInProvider:
    """The provider's state; its server answers in a thread of its own."""

    keys: list[Key] = field(default_factory=lambda: [new_key("key-1")])
    identity: tuple[str, str] = ("alice", "sid-1")  # (sub, sid) of the next sign-in
    reshape: Reshape | None = None  # applies to the next token response's ID token, once
    refresh_reshape: Reshape | None = None  # applies to every refresh's ID token
    jwks_fetches: int = 0
    jwks_down: bool = False  # its key set answers 503
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    issued_id_tokens: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    url: str = ""

    def start(self) -> StandInProvider:
        provider = self

        class Handler(_Handler):
            standin = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": self.url + "/authorize",
            "token_endpoint": self.url + "/token",
            "revocation_endpoint": self.url + "/revoke",
            "end_session_endpoint": self.url + "/end-session",
            "jwks_uri": self.url + "/jwks",
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def rotate(self, kid: str) -> None:
        """Replace the signing keys with a new one: the provider rotated them."""
        self.keys = [new_key(kid)]

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        key = self.keys[0]
        header = {"alg": "RS256", "kid": key.kid, **(header or {})}
        return jws.serialize_compact(header, json.dumps(claims), key, [header["alg"]])

    def id_token_claims(self, grant: Grant, access_token: str) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": grant.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "sid": grant.sid,
            "at_hash": half_hash(access_token),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return claims

    def logout_token(self, sub: str | None = None, sid: str | None = None, **claims: Any) -> str:
        """Sign a back-channel logout token (Back-Channel Logout 1.0 §2.4); ``claims`` win."""
        body: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "iat": int(time.time()),
            "exp": int(time.time()) + 120,
            "jti": secrets.token_urlsafe(16),
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        }
        body.update({k: v for k, v in (("sub", sub), ("sid", sid)) if v is not None})
        body.update(claims)
        return self.sign({k: v for k, v in body.items() if v is not None}, {"typ": "logout+jwt"})

    def token_response(self, grant: Grant, reshape: Reshape | None) -> dict[str, Any]:
        access_token, refresh_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.refresh_tokens[refresh_token] = grant
        answer: dict[str, Any] = {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": grant.scope,
        }
        if "openid" in grant.scope.split():
            claims, header = self.id_token_claims(grant, access_token), {}
            id_token = reshape(claims, header) if reshape else self.sign(claims, header)
            if id_token is not None:
                answer["id_token"] = id_token
                self.issued_id_tokens.append(id_token)
        return answer


class _Handler(BaseHTTPRequestHandler):
    standin: StandInProvider

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        provider, parts = self.standin, urlsplit(self.path)
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, provider.metadata())
        elif parts.path == "/jwks" and provider.jwks_down:
            self._json(503, {"error": "temporarily_unavailable"})
        elif parts.path == "/jwks":
            provider.jwks_fetches += 1
            self._json(200, {"keys": [key.as_dict(private=False) for key in provider.keys]})
        elif parts.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            provider.authorize_requests.append(query)
            code = secrets.token_urlsafe(16)
            sub, sid = provider.identity
            provider.codes[code] = Grant(sub, sid, query.get("nonce"), query["scope"])
            back = {"code": code, "state": query["state"], "iss": provider.url}
            self.send_response(302)
            self.send_header("Location", query["redirect_uri"] + "?" + urlencode(back))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        provider = self.standin
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path == "/revoke":
            provider.revoked.append(form.get("token", ""))
            self._json(200, {})
            return
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code" and form.get("code") in provider.codes:
            grant = provider.codes.pop(form["code"])
            reshape, provider.reshape = provider.reshape, None
            self._json(200, provider.token_response(grant, reshape))
        elif grant_type == "refresh_token" and form.get("refresh_token") in provider.refresh_tokens:
            grant = provider.refresh_tokens.pop(form["refresh_token"])
            self._json(200, provider.token_response(grant, provider.refresh_reshape))
        else:
            self._json(400, {"error": "invalid_grant"})

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - its signature
        """Keep codes and tokens out of the test output."""

"""A small, independent OAuth client for the interop tests: PKCE, PAR, private_key_jwt, DPoP."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from joserfc import jws
from joserfc.jwk import ECKey

from tests.interop.provider import ProviderClient

TIMEOUT = 10
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    """Return a PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    return verifier, b64(hashlib.sha256(verifier.encode()).digest())


def client_assertion(client: ProviderClient, audience: str) -> dict[str, str]:
    """Return the form fields of an RFC 7523 client assertion signed by the client's key."""
    assert client.private_key is not None
    now = int(time.time())
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    header = {"alg": "ES256", "kid": client.private_key.kid}
    signed = jws.serialize_compact(header, json.dumps(claims), client.private_key)
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}


def client_auth(client: ProviderClient, audience: str) -> dict[str, str]:
    """Return the form fields that authenticate ``client`` by its registered method."""
    if client.metadata["token_endpoint_auth_method"] == "private_key_jwt":
        return {"client_id": client.client_id, **client_assertion(client, audience)}
    assert client.client_secret is not None
    return {"client_id": client.client_id, "client_secret": client.client_secret}


class DPoPKey:
    """A client's DPoP key pair (ES256) and the proofs it signs (RFC 9449 §4)."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256")
        self.public = self.key.as_dict(private=False)
        self.jkt = self.key.thumbprint()

    def proof(
        self, method: str, url: str, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        parts = urlsplit(url)
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": f"{parts.scheme}://{parts.netloc}{parts.path}",
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = b64(hashlib.sha256(access_token.encode()).digest())
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public}
        return jws.serialize_compact(header, json.dumps(claims), self.key)


def asks_for_nonce(response: requests.Response) -> bool:
    """Say whether a server refused a proof for want of its nonce (RFC 9449 §8.1 and §9.1)."""
    if "use_dpop_nonce" in response.headers.get("WWW-Authenticate", ""):
        return True
    is_json = response.headers.get("Content-Type", "").startswith("application/json")
    return (
        response.status_code == 400
        and is_json
        and response.json().get("error") == ("use_dpop_nonce")
    )


class DPoPClient:
    """Sends requests with a fresh proof each, retrying once with the server's nonce."""

    def __init__(self, key: DPoPKey | None = None) -> None:
        self.key = key or DPoPKey()
        self.nonce: str | None = None
        self.nonce_retries = 0

    def request(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        form: Callable[[], dict[str, str]] | None = None,
        key: DPoPKey | None = None,
    ) -> requests.Response:
        """Send ``method url``; with ``access_token``, as ``Authorization: DPoP`` with its ath.

        ``form`` makes the body afresh for each attempt: a retried client assertion needs a new
        jti, since the server remembers the first one.
        """
        for attempt in range(2):
            data = form() if form is not None else None
            signer = key or self.key
            headers = {"DPoP": signer.proof(method, url, access_token, self.nonce)}
            if access_token is not None:
                headers["Authorization"] = f"DPoP {access_token}"
            response = requests.request(
                method, url, data=data, headers=headers, timeout=TIMEOUT, allow_redirects=False
            )
            self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
            if attempt == 0 and asks_for_nonce(response):
                self.nonce_retries += 1
                continue
            return response
        return response


class _Forms(HTMLParser):
    """Collect a page's forms: id, action, method and the values of their inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, Any]] = {}
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = {"action": attributes.get("action", ""), "fields": {}}
            self._current["method"] = attributes.get("method", "get").lower()
            self.forms[attributes.get("id", str(len(self.forms)))] = self._current
        elif tag == "input" and self._current is not None and "name" in attributes:
            self._current["fields"][attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_of(html: str) -> dict[str, dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class FormBrowser:
    """A cookie-keeping user agent that follows redirects and submits the provider's forms."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.submitted: list[str] = []  # ids of the forms the last authorize() filled in

    def follow(self, response: requests.Response, stop_at: str) -> requests.Response:
        """Follow redirects until a page is shown or the browser is sent to ``stop_at``."""
        for _ in range(10):
            location = response.headers.get("Location")
            if response.status_code not in (302, 303) or location is None:
                return response
            url = urljoin(response.url, location)
            if url.startswith(stop_at):
                return response
            response = self.session.get(url, timeout=TIMEOUT, allow_redirects=False)
        raise AssertionError("too many redirects")

    def open(self, url: str, stop_at: str) -> requests.Response:
        response = self.session.get(url, timeout=TIMEOUT, allow_redirects=False)
        return self.follow(response, stop_at)

    def submit(
        self, page: requests.Response, form_id: str, stop_at: str, **fields: str
    ) -> requests.Response:
        """Fill in and post the form ``form_id`` of ``page``, then follow where it leads."""
        form = forms_of(page.text)[form_id]
        assert form["method"] == "post", form
        url = urljoin(page.url, form["action"])
        data = {**form["fields"], **fields}
        response = self.session.post(url, data=data, timeout=TIMEOUT, allow_redirects=False)
        return self.follow(response, stop_at)

    def authorize(
        self, authorize_url: str, redirect_uri: str, username: str = "alice", password: str = ""
    ) -> dict[str, str]:
        """Sign in and allow at the provider; return the callback's query parameters."""
        password = password or {"alice": "wonderland", "bob": "builder"}[username]
        self.submitted = []
        page = self.open(authorize_url, redirect_uri)
        if "login" in forms_of(page.text):
            page = self.submit(page, "login", redirect_uri, username=username, password=password)
            self.submitted.append("login")
        if "consent" in forms_of(page.text):
            page = self.submit(page, "consent", redirect_uri)
            self.submitted.append("consent")
        return callback_params(page, redirect_uri)


def callback_params(response: requests.Response, redirect_uri: str) -> dict[str, str]:
    """Return the query of a redirect to ``redirect_uri``; fail on anything else."""
    location = response.headers.get("Location", "")
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    assert location.startswith(redirect_uri + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}

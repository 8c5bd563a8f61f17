"""Small HTTP helpers for the sandbox's token, revocation and resource endpoints."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from typing import Any
from urllib.parse import quote

import requests

from tests.sandbox.flow import DEMO_CLIENT, DEMO_REDIRECT, DEMO_SECRET, TIMEOUT
from tests.services import ADMIN_SECRET


def token_request(
    base_url: str,
    data: dict[str, str],
    client_id: str = DEMO_CLIENT,
    secret: str | None = DEMO_SECRET,
    basic: bool = False,
    path: str = "/oauth/v2/token",
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST to the token endpoint; the secret goes in the body, in Basic, or (None) nowhere."""
    headers = dict(headers or {})
    if secret is None:
        data = {"client_id": client_id, **data}
    elif basic:
        # RFC 6749 §2.3.1: form-encode id and secret before Basic-encoding them.
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        data = {**data, "client_id": client_id, "client_secret": secret}
    return requests.post(base_url + path, data=data, headers=headers, timeout=TIMEOUT)


def exchange_code(
    base_url: str, code: str, redirect_uri: str = DEMO_REDIRECT, **extra: Any
) -> requests.Response:
    """Exchange an authorization code for tokens."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    data.update(
        {k: v for k, v in extra.items() if k not in ("client_id", "secret", "path", "headers")}
    )
    options = {k: v for k, v in extra.items() if k in ("client_id", "secret", "path", "headers")}
    return token_request(base_url, data, **options)


def refresh(
    base_url: str,
    refresh_token: str,
    path: str = "/oauth/v2/token",
    headers: dict[str, str] | None = None,
    **extra: str,
) -> requests.Response:
    """Use a refresh token."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return token_request(base_url, data, path=path, headers=headers)


def client_token(
    base_url: str, scope: str, client_id: str = DEMO_CLIENT, secret: str = DEMO_SECRET
) -> str:
    """Return a client-credentials access token."""
    response = token_request(
        base_url, {"grant_type": "client_credentials", "scope": scope}, client_id, secret
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def revoke(
    base_url: str, token: str, hint: str | None = None, path: str = "/oauth/v2/revoke"
) -> requests.Response:
    """Revoke a token as the demo client."""
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    return token_request(base_url, data, path=path)


def api(
    base_url: str, method: str, path: str, token: str | None, **kwargs: Any
) -> requests.Response:
    """Call the API with a Bearer token in the Authorization header."""
    headers = {
        **kwargs.pop("headers", {}),
        **({"Authorization": f"Bearer {token}"} if token else {}),
    }
    timeout = kwargs.pop("timeout", TIMEOUT)
    return requests.request(method, base_url + path, headers=headers, timeout=timeout, **kwargs)


def metric(base_url: str, name: str, **labels: str) -> float:
    """Return one sample of a Prometheus counter from /metrics, 0 if absent."""
    text = requests.get(base_url + "/metrics", timeout=TIMEOUT).text
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            sample, value = line.rsplit(" ", 1)
            found = sample[len(name) + 1 : -1].split(",")
            if ",".join(sorted(found)) == wanted:
                return float(value)
    return 0.0


def register_client(base_url: str, **fields: Any) -> dict[str, Any]:
    """Register a new client through the admin API and return its registration (and secret)."""
    body = {"client_id": f"test-{uuid.uuid4().hex[:12]}", "scopes": ["query_userinfo"], **fields}
    response = requests.post(
        base_url + "/_sandbox/clients",
        json=body,
        headers={"X-Sandbox-Admin": ADMIN_SECRET},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    registration: dict[str, Any] = response.json()
    return registration


def pkce_pair() -> tuple[str, str]:
    """Return a fresh PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

"""Calls to any API with the signed-in user's token or the app's own, refreshed as needed.

One pooled urllib3 manager per app (thread-safe, keep-alive): this is the hot path of every
signed-in page. Tokens go in the Authorization header only, never in a URL.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3

from flask_altitudeangel._metrics import api_timer
from flask_altitudeangel.errors import (
    ApiError,
    ApiUnavailable,
    Forbidden,
    InsufficientScope,
    InvalidToken,
)
from flask_altitudeangel.records import ApiCall
from flask_altitudeangel.signals import api_called

CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ApiResponse:
    """An API's answer that is not about the token: any 2xx, 3xx or 4xx but 401 and 403."""

    status: int
    headers: Mapping[str, str]
    data: bytes

    def json(self) -> Any:
        """Return the body as JSON; a body that is not JSON is the API's failure."""
        try:
            return json.loads(self.data) if self.data else {}
        except ValueError:
            raise ApiError("the API answered with something that is not JSON") from None


class TokenSource(Protocol):
    """Where an ApiClient gets its token, and what it does when the API refuses it."""

    kind: str  # "user" or "client"

    def token(self) -> str: ...

    def after_rejection(self, rejected: str) -> str: ...

    def give_up(self, rejected: str) -> ApiError | Exception: ...


class ApiClient:
    """Call an API with a token from ``source``: once more with a newer token after a 401."""

    def __init__(
        self,
        http: urllib3.PoolManager,
        source: TokenSource,
        on_call: Callable[[ApiCall], None] | None = None,
    ) -> None:
        self._http = http
        self._source = source
        self._on_call = on_call

    def get(self, url: str, operation: str = "get") -> ApiResponse:
        return self.request("GET", url, operation=operation)

    def put(self, url: str, json: Any = None, operation: str = "put") -> ApiResponse:
        return self.request("PUT", url, json=json, operation=operation)

    def post(self, url: str, json: Any = None, operation: str = "post") -> ApiResponse:
        return self.request("POST", url, json=json, operation=operation)

    def delete(self, url: str, operation: str = "delete") -> ApiResponse:
        return self.request("DELETE", url, operation=operation)

    def request(
        self, method: str, url: str, *, json: Any = None, operation: str = "api"
    ) -> ApiResponse:
        """Send one request; raise for token and availability failures, return anything else."""
        token = self._source.token()
        try:
            return self._send(method, url, token, json, operation)
        except InvalidToken:
            token = self._source.after_rejection(token)
        try:
            return self._send(method, url, token, json, operation)
        except InvalidToken:
            raise self._source.give_up(token) from None

    def _send(self, method: str, url: str, token: str, payload: Any, operation: str) -> ApiResponse:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        started = time.perf_counter()
        status = "error"
        try:
            response = self._http.request(method, url, body=body, headers=headers)
            status = str(response.status)
        except urllib3.exceptions.HTTPError as error:
            raise ApiUnavailable(type(error).__name__) from None
        finally:
            elapsed = time.perf_counter() - started
            api_timer(operation, status).observe(elapsed)
            if self._on_call is not None and api_called.receivers:
                path = urlsplit(url).path
                self._on_call(ApiCall(operation, method, path, status, elapsed, self._source.kind))
        return _answer(response)


def _answer(response: urllib3.BaseHTTPResponse) -> ApiResponse:
    status = response.status
    if status in (401, 403):
        _raise_for_challenge(status, response.headers.get("WWW-Authenticate", ""))
    if status == 429 or status >= 500:
        raise ApiUnavailable(f"HTTP {status}", _retry_after(response))
    return ApiResponse(status, response.headers, response.data)


def _raise_for_challenge(status: int, header: str) -> None:
    """Tell "refresh the token" from "ask for more consent" from "not allowed" (RFC 6750 §3.1).

    Only a 401 that says ``invalid_token``, or gives no error at all, calls for a refresh: a
    403 is an answer about permissions, and refreshing would spend the refresh token for
    nothing.
    """
    challenge = dict(CHALLENGE_PARAM.findall(header))
    error = challenge.get("error")
    if error == "insufficient_scope":
        raise InsufficientScope(challenge.get("scope", ""))
    if status == 403:
        raise Forbidden()
    if error in (None, "invalid_token"):
        raise InvalidToken(challenge.get("error_description", "token rejected"))
    raise ApiError(f"HTTP 401 {error}")


def _retry_after(response: urllib3.BaseHTTPResponse) -> int:
    try:
        return max(1, min(int(response.headers.get("Retry-After", "5")), 300))
    except ValueError:
        return 5


def pool(connect_timeout: float, read_timeout: float) -> urllib3.PoolManager:
    """Return the pooled HTTP manager the API clients of one app share."""
    return urllib3.PoolManager(
        num_pools=4,
        maxsize=16,
        retries=False,
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
    )

"""Calls to any API with the signed-in user's token or the app's own, refreshed as needed.

One pooled urllib3 manager per app (thread-safe, keep-alive): this is the hot path of every
signed-in page. Tokens go in the Authorization header only, never in a URL.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3

from flask_altitudeangel import _messages
from flask_altitudeangel._dpop import DPoPKey, Proof, ServerHints
from flask_altitudeangel._metrics import api_timer
from flask_altitudeangel.errors import (
    ApiError,
    ApiUnavailable,
    Forbidden,
    InsufficientScope,
    InvalidToken,
    retry_after_seconds,
)
from flask_altitudeangel.records import ApiCall, Details, ProtocolMessage
from flask_altitudeangel.signals import api_called, protocol_message

CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class ApiResponse:
    """An API's answer that is not a refusal: any 2xx or 3xx (4xx and 5xx raise ApiError)."""

    status: int
    headers: Mapping[str, str]
    data: bytes

    def json(self) -> Any:
        """Return the body as JSON; a body that is not JSON is the API's failure."""
        try:
            return json.loads(self.data) if self.data else {}
        except ValueError:
            raise ApiError("the API answered with something that is not JSON") from None


class Credential(Protocol):
    """A token as an API client needs it: the token, its type, and the key of a DPoP token."""

    @property
    def access_token(self) -> str: ...

    @property
    def token_type(self) -> str: ...

    @property
    def dpop_jwk(self) -> dict[str, Any] | None: ...


class TokenSource(Protocol):
    """Where an ApiClient gets its token, and what it does when the API refuses it."""

    kind: str  # "user" or "client"

    def token(self) -> Credential: ...

    def after_rejection(self, rejected: Credential) -> Credential: ...

    def give_up(self, rejected: Credential) -> Exception: ...


class _ProofRefused(Exception):
    """The API wants a proof with its nonce (``use_dpop_nonce``) or a fresh one."""


class ApiClient:
    """Call an API with a token from ``source``: once more with a newer token after a 401.

    A DPoP-bound token goes with a fresh proof on every request (RFC 9449 §7), sent once more
    with the API's nonce when it asks for one. Each request and its answer are announced
    (``protocol_message``, and ``api_called``) with ``sender`` as the signals' sender. With
    ``bound_only`` (FAPI 2.0), a token that is not bound is never sent, as if refused.
    """

    def __init__(
        self,
        http: urllib3.PoolManager,
        source: TokenSource,
        servers: ServerHints,
        sender: Any,
        bound_only: bool = False,
    ) -> None:
        self._http = http
        self._source = source
        self._servers = servers
        self._sender = sender
        self._bound_only = bound_only

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
        credential = self._source.token()
        try:
            return self._send_proven(method, url, credential, json, operation)
        except InvalidToken:
            credential = self._source.after_rejection(credential)
        try:
            return self._send_proven(method, url, credential, json, operation)
        except InvalidToken:
            raise self._source.give_up(credential) from None

    def _send_proven(
        self, method: str, url: str, credential: Credential, payload: Any, operation: str
    ) -> ApiResponse:
        try:
            return self._send(method, url, credential, payload, operation)
        except _ProofRefused:
            return self._send(method, url, credential, payload, operation)  # now with its nonce

    def _send(
        self, method: str, url: str, credential: Credential, payload: Any, operation: str
    ) -> ApiResponse:
        bound = credential.token_type == "DPoP" and credential.dpop_jwk  # nosec B105 - a type
        if self._bound_only and not bound:
            raise InvalidToken("not DPoP-bound: never sent as a Bearer token")
        headers = {"Accept": "application/json"}
        proof = _authorize(headers, method, url, credential, self._servers)
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        listened = protocol_message.receivers or api_called.receivers  # not on most pages
        if listened:  # described only for whoever listens; what is sent is the same
            shown_proof = proof.shown if proof else ()
            endpoint, path = _described(url)
            self._announce_request(method, endpoint, path, operation, shown_proof)
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
            if listened:
                self._announce_answer(
                    method, endpoint, path, operation, status, elapsed, shown_proof
                )
        if credential.dpop_jwk:
            self._servers.note(url, response.headers)
        return _answer(response)

    def _announce_request(
        self, method: str, endpoint: str, path: str, operation: str, proof: Details
    ) -> None:
        kind = self._source.kind
        details = (("request", f"{method} {path}"), *proof)
        message = ProtocolMessage(
            "api_request", "sent", endpoint, details, operation=operation, credential=kind
        )
        _messages.announce(self._sender, message)

    def _announce_answer(
        self,
        method: str,
        endpoint: str,
        path: str,
        operation: str,
        status: str,
        seconds: float,
        proof: Details,
    ) -> None:
        kind = self._source.kind
        message = ProtocolMessage(
            "api_response",
            "received",
            endpoint,
            (("status", status),),
            operation=operation,
            status=status,
            seconds=seconds,
            credential=kind,
        )
        _messages.announce(self._sender, message)
        call = ApiCall(operation, method, path, status, seconds, kind, proof)
        api_called.send(self._sender, call=call)


def _authorize(
    headers: dict[str, str], method: str, url: str, credential: Credential, servers: ServerHints
) -> Proof | None:
    """Put the token in the Authorization header (never the URL), with a proof if it is bound."""
    if credential.token_type == "DPoP" and credential.dpop_jwk:  # nosec B105 - a type
        proof = _key(credential.dpop_jwk).prove(method, url, credential.access_token, servers)
        headers["Authorization"] = f"DPoP {credential.access_token}"
        headers["DPoP"] = proof.token
        return proof
    headers["Authorization"] = f"Bearer {credential.access_token}"
    return None


@lru_cache(maxsize=256)
def _described(url: str) -> tuple[str, str]:
    """Return what an API call's announcements say of its URL: the endpoint, and the path.

    Taken from the URL once for both, and remembered, as urlsplit remembers the URLs it was
    given: a page calls the same URLs again and again, and a token never goes in one.
    """
    return _messages.without_query(url), urlsplit(url).path


def _key(jwk: dict[str, Any]) -> DPoPKey:
    return _key_of(tuple(sorted(jwk.items())))


@lru_cache(maxsize=512)
def _key_of(items: tuple[tuple[str, Any], ...]) -> DPoPKey:
    """Parse a key once, however many requests it proves."""
    return DPoPKey.from_jwk(dict(items))


def _answer(response: urllib3.BaseHTTPResponse) -> ApiResponse:
    status = response.status
    if status in (401, 403):
        _raise_for_challenge(status, response.headers.get("WWW-Authenticate", ""))
    if status == 429 or status >= 500:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise ApiUnavailable(f"HTTP {status}", wait, status=status)
    answer = ApiResponse(status, response.headers, response.data)
    if status >= 400:
        raise refusal(answer)
    return answer


def refusal(answer: ApiResponse) -> ApiError:
    """Return the error for a 4xx answer, with what its body says, if it says it as OAuth does."""
    try:
        body = json.loads(answer.data) if answer.data else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or f"the API answered HTTP {answer.status}")
    return ApiError(description, status=answer.status, error=error, response=answer)


def _raise_for_challenge(status: int, header: str) -> None:
    """Tell "refresh the token" from "ask for more consent" from "not allowed" (RFC 6750 §3.1).

    Only a 401 that says ``invalid_token``, or gives no error at all, calls for a refresh: a
    403 is an answer about permissions, and refreshing would spend the refresh token for
    nothing.
    """
    challenge = dict(CHALLENGE_PARAM.findall(header))
    error = challenge.get("error")
    if error == "insufficient_scope":
        lacking = InsufficientScope(challenge.get("scope", ""))
        lacking.status, lacking.error = status, error
        raise lacking
    if status == 401 and error in ("use_dpop_nonce", "invalid_dpop_proof"):
        raise _ProofRefused(error)
    if status == 403:
        forbidden = Forbidden()
        forbidden.status, forbidden.error = 403, str(error or "")
        raise forbidden
    if error in (None, "invalid_token"):
        raise InvalidToken(challenge.get("error_description", "token rejected"))
    raise ApiError(f"HTTP 401 {error}", status=401, error=str(error))


def pool(connect_timeout: float, read_timeout: float) -> urllib3.PoolManager:
    """Return the pooled HTTP manager the API clients of one app share."""
    return urllib3.PoolManager(
        num_pools=4,
        maxsize=16,
        retries=False,
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
    )

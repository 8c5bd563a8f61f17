"""Describe each protocol message as it went over the wire, and announce it (protocol_message).

A description names every parameter the message carried. Public values are shown whole;
one-time values are shortened, tokens fingerprinted, a secret only named, a signed JWT (a proof,
an assertion, an ID token, a logout token) shown by header and claims, its one-time claims and
signature shortened, and anything unknown only by its length: a description never holds a value
anyone could use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from flask_altitudeangel._dpop import describe_jwt
from flask_altitudeangel.records import Details, ProtocolMessage, fingerprint, shown
from flask_altitudeangel.signals import protocol_message

# The order a reader expects; parameters not listed follow, then the proof and the assertion.
ORDER = (
    "grant_type",
    "response_type",
    "client_id",
    "client_secret",
    "code",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "refresh_token",
    "token",
    "token_type_hint",
    "request_uri",
    "post_logout_redirect_uri",
    "iss",
    "error",
    "error_description",
)
PUBLIC = {
    "grant_type",
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "code_challenge_method",
    "token_type_hint",
    "post_logout_redirect_uri",
    "iss",
    "error",
    "error_description",
    "token_type",
    "expires_in",
    "prompt",
    "response_mode",
}
KEPT = {
    "code": 4,
    "state": 6,
    "nonce": 6,
    "code_challenge": 6,
    "code_verifier": 0,
    "request_uri": 40,
}
TOKENS = {"access_token", "refresh_token", "token", "id_token", "id_token_hint"}
ANSWER_ORDER = (
    "token_type",
    "expires_in",
    "access_token",
    "refresh_token",
    "scope",
    "request_uri",
    "error",
    "error_description",
)
LEFT_OUT = {"client_assertion_type"}  # said by the "client authentication" line


def attempt_of(state: str) -> str:
    """Name a sign-in attempt by a hash of its state: enough to tie messages, not to spend it."""
    return hashlib.sha256(b"attempt:" + state.encode()).hexdigest()[:16]


def announce(sender: Any, message: ProtocolMessage) -> None:
    """Tell whoever listens."""
    protocol_message.send(sender, message=message)


def value(name: str, given: str) -> str:
    """Show one parameter's value so that it can be recognised but never used."""
    if name in PUBLIC:
        return given
    if name in KEPT:
        return shown(given, KEPT[name])
    if name in TOKENS:
        return fingerprint(given)
    if name == "client_secret":
        return "•••••• (form-encoded)"
    return shown(given, 0)


def parameters(params: Mapping[str, str], authentication: str = "") -> Details:
    """Describe form or query parameters; ``authentication`` says how the client proved itself."""
    names = [n for n in ORDER if n in params]
    names += sorted(n for n in params if n not in ORDER and n not in LEFT_OUT)
    rows = [(n, value(n, str(params[n]))) for n in names if n != "client_assertion"]
    if authentication:
        at = next((i for i, row in enumerate(rows) if row[0] == "client_id"), min(1, len(rows)))
        rows.insert(at, ("client authentication", authentication))
    return tuple(rows)


def back_channel_request(request: requests.PreparedRequest) -> Details:
    """Describe a request to the authorization server: its form, proof and client assertion."""
    body = request.body
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    params = dict(parse_qsl(text))
    basic = str(request.headers.get("Authorization", "")).startswith("Basic ")
    rows = [("endpoint", without_query(str(request.url)))]
    rows += parameters(params, _client_authentication(params, basic))
    proof = request.headers.get("DPoP")
    if proof:
        rows += describe_jwt(str(proof), "DPoP proof")
    if params.get("client_assertion"):
        rows += describe_jwt(params["client_assertion"], "client assertion")
    return tuple(rows)


def back_channel_response(response: requests.Response) -> Details:
    """Describe the authorization server's answer: its fields, tokens fingerprinted."""
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return (("status", str(response.status_code)),)
    rows: list[tuple[str, str]] = [("fields", ", ".join(sorted(document)))]
    if "access_token" in document:  # a token response: say what it left out, too
        document = {"expires_in": "(not sent)", **document}
        document.setdefault("refresh_token", None)  # shown as "not issued"
    names = [n for n in ANSWER_ORDER if n in document]
    for name in names + sorted(n for n in document if n not in ANSWER_ORDER):
        given = document[name]
        if name == "refresh_token":
            rows.append((name, "issued" if given else "not issued"))
        elif name == "scope":
            rows.append(("granted scopes", str(given)))
        elif isinstance(given, str | int | float):
            rows.append((name, value(name, str(given))))
        else:
            rows.append((name, shown(json.dumps(given), 0)))
    if isinstance(document.get("id_token"), str):  # who signed in: its claims, never the token
        rows += describe_jwt(document["id_token"], "ID token")
    return tuple(rows)


def logout_request(endpoint: str, given: list[str]) -> ProtocolMessage:
    """Describe a back-channel logout request: its logout token by header and claims."""
    if len(given) == 1:
        token = given[0]
        rows = (("logout_token", fingerprint(token)), *describe_jwt(token, "logout token"))
    else:
        rows = (("logout_token", f"{len(given)} given, one expected"),)
    return ProtocolMessage(
        "backchannel_logout_request", "received", endpoint, (("endpoint", endpoint), *rows)
    )


def logout_response(endpoint: str, status: int, document: Any) -> ProtocolMessage:
    """Describe the app's answer to a back-channel logout request: its status, and why not."""
    rows = [("status", str(status))]
    if isinstance(document, dict):
        rows += [
            (name, str(document[name]))
            for name in ("error", "error_description")
            if name in document
        ]
    return ProtocolMessage(
        "backchannel_logout_response", "sent", endpoint, tuple(rows), status=str(status)
    )


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _client_authentication(params: Mapping[str, str], basic: bool) -> str:
    if params.get("client_assertion"):
        return "private_key_jwt (a signed assertion, RFC 7523)"
    if "client_secret" in params:
        return "client_secret_post (secret in the form body)"
    if basic:
        return "client_secret_basic (secret in the Authorization header)"
    return "none (a public client)"

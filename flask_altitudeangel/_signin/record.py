"""What a sign-in tells whoever listens: its front-channel messages and the CodeExchange.

Every secret is shortened (see _messages): the messages through the browser are announced
here, those the app sends the authorization server itself by the OAuth client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask_altitudeangel._config import Config
from flask_altitudeangel._messages import attempt_of, parameters, without_query
from flask_altitudeangel._signin.pending import PendingSignIn
from flask_altitudeangel.records import CodeExchange, Details, ProtocolMessage, fingerprint, shown


def through_the_browser(name: str, url: str, state: str = "") -> ProtocolMessage:
    """Describe a request the app sends by redirecting the browser (authorize, end-session)."""
    query = dict(parse_qsl(urlsplit(url).query))
    details = (("endpoint", without_query(url)), *parameters(query))
    attempt = attempt_of(state) if state else ""
    return ProtocolMessage(name, "sent", without_query(url), details, attempt=attempt)


def callback(redirect_uri: str, params: Mapping[str, str]) -> ProtocolMessage:
    """Describe the authorization response the browser brought back."""
    details = (("parameters", ", ".join(sorted(params))), *parameters(params))
    attempt = attempt_of(params.get("state", ""))
    return ProtocolMessage(
        "authorization_response", "received", redirect_uri, details, attempt=attempt
    )


def code_exchange(
    config: Config,
    params: Mapping[str, str],
    pending: PendingSignIn,
    response: Mapping[str, Any],
    timing: tuple[float, float],
) -> CodeExchange:
    """Describe one sign-in for ``code_exchanged``, as far as the callback knows it."""
    code = params["code"]
    received_at, seconds = timing
    shown_callback = (
        ("parameters", ", ".join(sorted(params))),
        ("code", shown(code, 4)),
        ("iss", "checked" if "iss" in params else "not sent"),
    )
    return CodeExchange(
        started_at=pending.created,
        received_at=received_at,
        authorization_request=_request_parameters(config, pending),
        callback=shown_callback,
        token_request=_token_request(config, code, pending),
        token_response=_token_response(response, pending.scope),
        requested_scope=pending.scope,
        granted_scope=str(response.get("scope") or pending.scope),
        issuer_checked="iss" in params,
        consented=True,
        seconds=seconds,
    )


def _token_request(config: Config, code: str, pending: PendingSignIn) -> Details:
    details = [
        ("endpoint", config.token_url),
        ("grant_type", "authorization_code"),
        ("client_id", config.client_id),
        ("code", shown(code, 4)),
        ("redirect_uri", config.redirect_uri),
    ]
    if pending.code_verifier:
        details.append(("code_verifier", shown(pending.code_verifier, 0)))
    return tuple(details)


def _token_response(response: Mapping[str, Any], requested: str) -> Details:
    return (
        ("fields", ", ".join(sorted(response))),
        ("token_type", str(response.get("token_type"))),
        ("expires_in", str(response.get("expires_in", "(not sent)"))),
        ("access_token", fingerprint(str(response.get("access_token", "")))),
        ("refresh_token", "issued" if response.get("refresh_token") else "not issued"),
        ("requested scopes", requested),
        ("granted scopes", str(response.get("scope") or requested)),
    )


def _request_parameters(config: Config, pending: PendingSignIn) -> Details:
    """The authorization request's parameters, whether sent in the URL or pushed."""
    return (
        ("endpoint", config.par_url or config.authorize_url),
        ("response_type", "code"),
        ("client_id", config.client_id),
        ("redirect_uri", config.redirect_uri),
        ("scope", pending.scope),
        ("state", shown(pending.state)),
    )

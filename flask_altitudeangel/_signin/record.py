"""The record of one sign-in's messages, for whoever listens: every secret shortened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from flask_altitudeangel._config import Config
from flask_altitudeangel._signin.pending import PendingSignIn
from flask_altitudeangel.records import CodeExchange, Details, fingerprint, shown


def authorization_request(config: Config, pending: PendingSignIn) -> Details:
    if pending.pushed:  # the browser carried only a reference to the pushed request
        request_uri = dict(pending.pushed).get("request_uri", "")
        return (
            ("endpoint", config.authorize_url),
            ("client_id", config.client_id),
            ("request_uri", shown(request_uri, 40)),
        )
    return _request_parameters(config.authorize_url, config, pending)


def token_request(config: Config, code: str, pending: PendingSignIn) -> Details:
    details = [
        ("endpoint", config.token_url),
        ("grant_type", "authorization_code"),
        *client_authentication(config),
        ("code", shown(code, 4)),
        ("redirect_uri", config.redirect_uri),
    ]
    if pending.code_verifier:
        details.append(("code_verifier", shown(pending.code_verifier, 0)))
    return tuple(details)


def pushed_request(config: Config, pending: PendingSignIn) -> Details:
    """Describe the pushed authorization request (RFC 9126) of the attempt."""
    answer = dict(pending.pushed)
    return (
        *_request_parameters(config.par_url, config, pending),
        *client_authentication(config),
        ("request_uri", shown(answer.get("request_uri"), 40)),
        ("expires_in", answer.get("expires_in", "(not sent)")),
    )


def client_authentication(config: Config) -> list[tuple[str, str]]:
    if config.client_auth == "private_key_jwt":
        return [
            ("client authentication", "private_key_jwt (a signed assertion, RFC 7523)"),
            ("client_id", config.client_id),
        ]
    return [
        ("client authentication", "client_secret_post (secret in the form body)"),
        ("client_id", config.client_id),
        ("client_secret", "•••••• (form-encoded)"),
    ]


def token_response(response: Mapping[str, Any], requested: str) -> Details:
    return (
        ("fields", ", ".join(sorted(response))),
        ("token_type", str(response.get("token_type"))),
        ("expires_in", str(response.get("expires_in", "(not sent)"))),
        ("access_token", fingerprint(str(response.get("access_token", "")))),
        ("refresh_token", "issued" if response.get("refresh_token") else "not issued"),
        ("requested scopes", requested),
        ("granted scopes", str(response.get("scope") or requested)),
    )


def code_exchange(
    config: Config,
    params: Mapping[str, str],
    pending: PendingSignIn,
    response: Mapping[str, Any],
    timing: tuple[float, float],
    sent: Details,
) -> CodeExchange:
    """Describe one sign-in from the authorization request to the token response."""
    code = params["code"]
    received_at, seconds = timing
    callback = (
        ("parameters", ", ".join(sorted(params))),
        ("code", shown(code, 4)),
        ("iss", "checked" if "iss" in params else "not sent"),
    )
    return CodeExchange(
        started_at=pending.created,
        received_at=received_at,
        authorization_request=authorization_request(config, pending),
        callback=callback,
        token_request=token_request(config, code, pending) + sent,
        token_response=token_response(response, pending.scope),
        requested_scope=pending.scope,
        granted_scope=str(response.get("scope") or pending.scope),
        issuer_checked="iss" in params,
        consented=True,
        seconds=seconds,
        extra={"pushed authorization request": pushed_request(config, pending)}
        if pending.pushed
        else {},
    )


def _request_parameters(endpoint: str, config: Config, pending: PendingSignIn) -> Details:
    """The authorization request's parameters, whether sent in the URL or pushed."""
    details = [
        ("endpoint", endpoint),
        ("response_type", "code"),
        ("client_id", config.client_id),
        ("redirect_uri", config.redirect_uri),
        ("scope", pending.scope),
        ("state", shown(pending.state)),
    ]
    if pending.code_verifier:
        challenge = create_s256_code_challenge(pending.code_verifier)
        details += [("code_challenge", shown(challenge)), ("code_challenge_method", "S256")]
    return tuple(details)

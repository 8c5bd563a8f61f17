"""The steps of a sign-in and of a refresh, described for the flow trace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import g, has_request_context

from portal.pending import PendingSignIn
from portal.refresh import RefreshEvent
from portal.settings import Settings
from portal.tokens import UserToken
from portal.trace import APP, AUTH, BROWSER, Step, fingerprint, shown

ROLE_CAPTIONS = {
    "refreshed": "This request won the refresh lock and spent the refresh token.",
    "waited": "Another request held the refresh lock; this one waited and used its token.",
    "already_fresh": "Another request had already refreshed by the time this one got the lock.",
}


def sign_in_request(settings: Settings, tx: PendingSignIn) -> list[Step]:
    """Describe /login and the authorization request it redirected the browser to."""
    details = [
        ("endpoint", settings.aa_authorize_url),
        ("response_type", "code"),
        ("client_id", settings.aa_client_id),
        ("redirect_uri", settings.aa_redirect_uri),
        ("scope", tx.scope),
        ("state", shown(tx.state)),
    ]
    if tx.code_verifier:
        challenge = create_s256_code_challenge(tx.code_verifier)
        details += [("code_challenge", shown(challenge)), ("code_challenge_method", "S256")]
    return [
        Step(BROWSER, APP, "Sign in", "RFC 6749 §4.1", "You asked to sign in.", at=tx.created),
        Step(
            APP,
            AUTH,
            "Authorization request (via the browser)",
            "RFC 6749 §4.1.1, RFC 7636 §4.3",
            "The app sends the browser to the authorization server with a one-time state "
            "and a PKCE challenge; the verifier stays on the server.",
            details,
            at=tx.created,
        ),
    ]


def callback_received(params: Mapping[str, str], issuer_checked: bool) -> list[Step]:
    """Describe the consent outcome and the callback that carried it back."""
    allowed = "code" in params
    return [
        Step(
            AUTH,
            BROWSER,
            "Sign-in and consent",
            "RFC 6749 §4.1.1",
            "You signed in at the authorization server and "
            + ("allowed the app." if allowed else "declined."),
        ),
        Step(
            BROWSER,
            APP,
            "Authorization response (callback)",
            "RFC 6749 §4.1.2, RFC 9207",
            "The state matched this session's pending sign-in and was spent.",
            [
                ("parameters", ", ".join(sorted(params))),
                ("code", shown(params.get("code"), 4)),
                ("iss", "checked" if issuer_checked else "not sent"),
            ],
        ),
    ]


def code_exchanged(
    settings: Settings, code: str, tx: PendingSignIn, response: Mapping[str, Any], ms: float
) -> list[Step]:
    """Describe the token request and the token response."""
    request = [
        ("grant_type", "authorization_code"),
        ("client authentication", "client_secret_post (secret in the form body)"),
        ("client_id", settings.aa_client_id),
        ("client_secret", "•••••• (form-encoded)"),
        ("code", shown(code, 4)),
        ("redirect_uri", settings.aa_redirect_uri),
    ]
    if tx.code_verifier:
        request.append(("code_verifier", shown(tx.code_verifier, 0)))
    return [
        Step(
            APP,
            AUTH,
            "Token request",
            "RFC 6749 §4.1.3, RFC 7636 §4.5",
            "The app exchanges the code, proving it started this sign-in with the verifier.",
            [("endpoint", settings.aa_token_url), *request],
        ),
        token_response_step(response, tx.scope, ms),
    ]


def token_response_step(response: Mapping[str, Any], requested: str, ms: float) -> Step:
    granted = str(response.get("scope") or requested)
    details = [
        ("fields", ", ".join(sorted(response))),
        ("token_type", str(response.get("token_type"))),
        ("expires_in", str(response.get("expires_in", "(not sent)"))),
        ("access_token", fingerprint(str(response.get("access_token", "")))),
        ("refresh_token", "issued" if response.get("refresh_token") else "not issued"),
        ("requested scopes", requested),
        ("granted scopes", granted),
    ]
    return Step(
        AUTH,
        APP,
        "Token response",
        "RFC 6749 §5.1",
        "The tokens are stored encrypted in Redis; the browser never sees them.",
        details,
        ms=round(ms, 1),
    )


def refreshed(login_id: str, token: UserToken, event: RefreshEvent) -> None:
    """Note a refresh of this request in the trace (the Refresher's event hook)."""
    if not has_request_context():
        return
    reason = "proactive (about to expire)" if event.reason == "proactive" else "after a 401"
    step = Step(
        APP,
        AUTH,
        "Refresh" if event.role == "refreshed" else "Refresh (shared)",
        "RFC 6749 §6, RFC 9700 §4.14.2",
        ROLE_CAPTIONS[event.role],
        [
            ("reason", reason),
            ("grant_type", "refresh_token"),
            ("new access token", fingerprint(token.access_token)),
            ("token version", str(token.version)),
        ],
        ms=round(event.seconds * 1000, 1),
    )
    g.setdefault("trace_steps", []).append(step)

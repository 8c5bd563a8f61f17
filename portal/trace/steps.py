"""The steps of the flow, told from the protocol messages the extension announces."""

from __future__ import annotations

from dataclasses import dataclass

from flask_altitudeangel import ProtocolMessage, Refresh
from portal.trace.store import API, APP, AUTH, BROWSER, Step

REFRESHED = "This request won the refresh lock and spent the refresh token."
SHARED = {
    "waited": "Another request held the refresh lock; this one waited and used its token.",
    "already_fresh": "Another request had already refreshed by the time this one got the lock.",
}
USER_CALL = (
    "RFC 6750 §2.1",
    "With your access token, in the Authorization header, never in the URL.",
)
CLIENT_TOKEN_CALL = (
    "RFC 6749 §4.4, RFC 6750 §2.1",
    "With the app's own client-credentials token: no permission of yours is needed.",
)
CALLS = {"user": USER_CALL, "client": CLIENT_TOKEN_CALL}
# Requests the app sends the servers itself: told together with their answer.
ANSWERED = {"pushed_authorization_request", "token_request", "revocation_request", "api_request"}
SENT_ALONG = ("DPoP proof", "client assertion")  # what a refresh step shows of its request
ID_CLAIMS = "ID token claims"  # what a token response step shows of an ID token: never the token
IDENTITY_CHECKED = (
    " The ID token says who signed in: its signature, issuer, audience, times, nonce and "
    "at_hash were checked before you were signed in."
)


@dataclass(frozen=True)
class Refreshed:
    """What a request did about a refresh (``token_refreshed``), heard at ``at``."""

    refresh: Refresh
    at: float


Heard = ProtocolMessage | Refreshed


def told(heard: list[Heard], earlier: list[Step] | None = None) -> list[Step]:
    """Tell one request's messages as steps, each request the app sent with its answer.

    ``earlier`` are the steps of the same sign-in told before (at /login), if any.
    """
    steps: list[Step] = []
    asked: ProtocolMessage | None = None
    before: Heard | None = None  # what came before the request now answered
    for index, message in enumerate(heard):
        if isinstance(message, Refreshed):
            steps += refreshed(message, steps)
        elif message.name in ANSWERED:
            asked, before = message, heard[index - 1] if index else None
        elif message.name == "authorization_request":
            steps.insert(0, _sign_in_asked(heard[0].at))
            steps.append(authorization_request(message))
        elif message.name == "authorization_response":
            steps += authorization_response(message)
        elif asked is not None and message.direction == "received":
            steps += answered(asked, message, before)
            asked = None
    return _with_requested_scope(steps, earlier or [])


def signed_in(messages: list[ProtocolMessage]) -> bool:
    """Tell whether these messages include a code exchanged for tokens."""
    return any(
        m.name == "token_response" and m.operation == "authorization_code" and m.status == "200"
        for m in messages
    )


def answered(asked: ProtocolMessage, answer: ProtocolMessage, before: Heard | None) -> list[Step]:
    """Tell a request the app sent and the answer it got."""
    if asked.name == "pushed_authorization_request":
        return [pushed_request(asked, answer)]
    if asked.name == "api_request":
        return [api_call(asked, answer)]
    if asked.name == "token_request" and asked.operation == "authorization_code":
        return code_exchange(asked, answer)
    if asked.name == "token_request" and asked.operation == "refresh_token":
        after_401 = (
            isinstance(before, ProtocolMessage)
            and before.name == "api_response"
            and before.status == "401"
        )
        return [refresh(asked, answer, after_401)]
    return []  # the app's own token, a revocation: not part of how you signed in


def _sign_in_asked(at: float) -> Step:
    return Step(BROWSER, APP, "Sign in", "RFC 6749 §4.1", "You asked to sign in.", at=at)


def authorization_request(message: ProtocolMessage) -> Step:
    """Tell the redirect to the authorization server, pushed or with its parameters."""
    pushed = any(name == "request_uri" for name, _ in message.details)
    return Step(
        APP,
        AUTH,
        "Authorization request (via the browser)",
        "RFC 6749 §4.1.1, RFC 9126 §4" if pushed else "RFC 6749 §4.1.1, RFC 7636 §4.3",
        "The browser carries only the reference to the pushed request: nothing in the URL "
        "can be read or changed on the way."
        if pushed
        else "The app sends the browser to the authorization server with a one-time state "
        "and a PKCE challenge; the verifier stays on the server.",
        list(message.details),
        at=message.at,
    )


def authorization_response(message: ProtocolMessage) -> list[Step]:
    """Tell the sign-in at the authorization server, and the callback it ended with."""
    declined = dict(message.details).get("error") == "access_denied"
    return [
        Step(
            AUTH,
            BROWSER,
            "Sign-in and consent",
            "RFC 6749 §4.1.1",
            "You signed in at the authorization server and "
            + ("declined." if declined else "allowed the app."),
            at=message.at,
        ),
        Step(
            BROWSER,
            APP,
            "Authorization response (callback)",
            "RFC 6749 §4.1.2, RFC 9207",
            "The state matched this browser's pending sign-in and was spent.",
            list(message.details),
            at=message.at,
        ),
    ]


def pushed_request(asked: ProtocolMessage, answer: ProtocolMessage) -> Step:
    """Tell the pushed authorization request (RFC 9126) that came before the redirect."""
    kept = [row for row in answer.details if row[0] in ("request_uri", "expires_in", "error")]
    return Step(
        APP,
        AUTH,
        "Pushed authorization request",
        "RFC 9126 §2, RFC 7636 §4.3",
        "The app sends the request's parameters, with a one-time state and a PKCE challenge, "
        "straight to the authorization server, authenticated as at the token endpoint.",
        [*asked.details, *kept],
        ms=_ms(answer),
        at=asked.at,
    )


def code_exchange(asked: ProtocolMessage, answer: ProtocolMessage) -> list[Step]:
    """Tell the token request that spent the code, and the tokens it got."""
    with_id = ID_CLAIMS in dict(answer.details)
    return [
        Step(
            APP,
            AUTH,
            "Token request",
            "RFC 6749 §4.1.3, RFC 7636 §4.5",
            "The app exchanges the code, proving it started this sign-in with the verifier.",
            list(asked.details),
            at=asked.at,
        ),
        Step(
            AUTH,
            APP,
            "Token response",
            "RFC 6749 §5.1, OpenID Connect Core §3.1.3.7" if with_id else "RFC 6749 §5.1",
            "The tokens are stored encrypted in Redis; the browser never sees them."
            + (IDENTITY_CHECKED if with_id else ""),
            list(answer.details),
            ms=_ms(answer),
            at=answer.at,
        ),
    ]


def refresh(asked: ProtocolMessage, answer: ProtocolMessage, after_401: bool) -> Step:
    """Tell a refresh this request made."""
    new_token = dict(answer.details).get("access_token", f"none (HTTP {answer.status})")
    return Step(
        APP,
        AUTH,
        "Refresh",
        "RFC 6749 §6, RFC 9700 §4.14.2",
        REFRESHED,
        [
            ("reason", "after a 401" if after_401 else "proactive (about to expire)"),
            ("grant_type", "refresh_token"),
            ("new access token", new_token),
            *(row for row in answer.details if row[0] == ID_CLAIMS),
            *(row for row in asked.details if row[0].startswith(SENT_ALONG)),
        ],
        ms=_ms(answer),
        at=asked.at,
    )


def refreshed(heard: Refreshed, steps: list[Step]) -> list[Step]:
    """Tell a request's part in a refresh: the version it got, or the refresh it shared."""
    event = heard.refresh
    if event.role == "refreshed":  # told already, from its messages: add what they lack
        own = next((s for s in reversed(steps) if s.title == "Refresh"), None)
        if own is not None:
            own.details.insert(3, ("token version", str(event.version)))
        return []
    return [
        Step(
            APP,
            AUTH,
            "Refresh (shared)",
            "RFC 6749 §6, RFC 9700 §4.14.2",
            SHARED.get(event.role, SHARED["waited"]),
            [
                (
                    "reason",
                    "proactive (about to expire)" if event.reason == "proactive" else "after a 401",
                ),
                ("grant_type", "refresh_token"),
                ("new access token", event.access_token),
                ("token version", str(event.version)),
            ],
            ms=round(event.seconds * 1000, 1),
            at=heard.at - event.seconds,
        )
    ]


def backchannel_logout(messages: list[ProtocolMessage]) -> Step | None:
    """Tell the logout token the provider posted, and the app's answer: how a login ended."""
    arrived = next((m for m in messages if m.name == "backchannel_logout_request"), None)
    if arrived is None:
        return None
    answer = next((m for m in messages if m.name == "backchannel_logout_response"), None)
    return Step(
        AUTH,
        APP,
        "Back-channel logout (your previous sign-in)",
        "OpenID Connect Back-Channel Logout §2.5, §2.6",
        "Your previous sign-in here ended when your session at the authorization server did: "
        "it told the app, server to server, with a signed logout token. The app checked it "
        "(signature, issuer, audience, age, the logout event, a jti never seen before) and "
        "ended every login of that session.",
        [*arrived.details, *(answer.details if answer else ())],
        at=arrived.at,
        previous=True,
    )


def api_call(asked: ProtocolMessage, answer: ProtocolMessage) -> Step:
    """Tell one API call."""
    rfc, caption = CALLS.get(asked.credential, USER_CALL)
    request, *proof = asked.details
    return Step(
        APP,
        API,
        asked.operation.replace("_", " ").capitalize(),
        rfc,
        caption,
        [request, ("status", answer.status), *proof],
        ms=_ms(answer),
        at=asked.at,
    )


def _with_requested_scope(steps: list[Step], earlier: list[Step]) -> list[Step]:
    """Put the scope the sign-in asked for beside the one granted, in the token response."""
    requested = next((dict(s.details)["scope"] for s in earlier if "scope" in dict(s.details)), "")
    for step in steps:
        if requested and step.title == "Token response":
            names = [name for name, _ in step.details]
            at = names.index("granted scopes") if "granted scopes" in names else len(names)
            step.details.insert(at, ("requested scopes", requested))
    return steps


def _ms(answer: ProtocolMessage) -> float | None:
    return None if answer.seconds is None else round(answer.seconds * 1000, 1)

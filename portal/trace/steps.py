"""The steps of the flow, told from the protocol messages the extension announces."""

from __future__ import annotations

from flask_altitudeangel import ProtocolMessage
from portal.trace.store import API, APP, AUTH, BROWSER, Step

REFRESHED = "This request won the refresh lock and spent the refresh token."
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


def told(messages: list[ProtocolMessage], earlier: list[Step] | None = None) -> list[Step]:
    """Tell one request's messages as steps, each request the app sent with its answer.

    ``earlier`` are the steps of the same sign-in told before (at /login), if any.
    """
    steps: list[Step] = []
    asked: ProtocolMessage | None = None
    before: ProtocolMessage | None = None  # what came before the request now answered
    for index, message in enumerate(messages):
        if message.name in ANSWERED:
            asked, before = message, messages[index - 1] if index else None
        elif message.name == "authorization_request":
            steps.insert(0, _sign_in_asked(messages[0].at))
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


def answered(
    asked: ProtocolMessage, answer: ProtocolMessage, before: ProtocolMessage | None
) -> list[Step]:
    """Tell a request the app sent and the answer it got."""
    if asked.name == "pushed_authorization_request":
        return [pushed_request(asked, answer)]
    if asked.name == "api_request":
        return [api_call(asked, answer)]
    if asked.name == "token_request" and asked.operation == "authorization_code":
        return code_exchange(asked, answer)
    if asked.name == "token_request" and asked.operation == "refresh_token":
        after_401 = before is not None and before.name == "api_response" and before.status == "401"
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
            "RFC 6749 §5.1",
            "The tokens are stored encrypted in Redis; the browser never sees them.",
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
            *(row for row in asked.details if row[0].startswith(SENT_ALONG)),
        ],
        ms=_ms(answer),
        at=asked.at,
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

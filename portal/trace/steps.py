"""The steps of a sign-in, a refresh and an API call, told from what the extension announces."""

from __future__ import annotations

from flask_altitudeangel import ApiCall, CodeExchange, Details, Refresh
from portal.trace.store import API, APP, AUTH, BROWSER, Step

ROLE_CAPTIONS = {
    "refreshed": "This request won the refresh lock and spent the refresh token.",
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


def sign_in(exchange: CodeExchange) -> list[Step]:
    """Tell a sign-in from the authorization request to the token response."""
    started, received = exchange.started_at, exchange.received_at
    consent = "allowed the app." if exchange.consented else "declined."
    pushed = exchange.extra.get("pushed authorization request")
    return [
        Step(BROWSER, APP, "Sign in", "RFC 6749 §4.1", "You asked to sign in.", at=started),
        *([pushed_request(pushed, started)] if pushed else []),
        Step(
            APP,
            AUTH,
            "Authorization request (via the browser)",
            "RFC 6749 §4.1.1, RFC 9126 §4" if pushed else "RFC 6749 §4.1.1, RFC 7636 §4.3",
            "The browser carries only the reference to the pushed request: nothing in the URL "
            "can be read or changed on the way."
            if pushed
            else "The app sends the browser to the authorization server with a one-time state "
            "and a PKCE challenge; the verifier stays on the server.",
            list(exchange.authorization_request),
            at=started,
        ),
        Step(
            AUTH,
            BROWSER,
            "Sign-in and consent",
            "RFC 6749 §4.1.1",
            "You signed in at the authorization server and " + consent,
            at=received,
        ),
        Step(
            BROWSER,
            APP,
            "Authorization response (callback)",
            "RFC 6749 §4.1.2, RFC 9207",
            "The state matched this browser's pending sign-in and was spent.",
            list(exchange.callback),
            at=received,
        ),
        Step(
            APP,
            AUTH,
            "Token request",
            "RFC 6749 §4.1.3, RFC 7636 §4.5",
            "The app exchanges the code, proving it started this sign-in with the verifier.",
            list(exchange.token_request),
            at=received,
        ),
        Step(
            AUTH,
            APP,
            "Token response",
            "RFC 6749 §5.1",
            "The tokens are stored encrypted in Redis; the browser never sees them.",
            list(exchange.token_response),
            ms=round(exchange.seconds * 1000, 1),
            at=received + exchange.seconds,
        ),
    ]


def pushed_request(details: Details, at: float) -> Step:
    """Tell the pushed authorization request (RFC 9126) that came before the redirect."""
    return Step(
        APP,
        AUTH,
        "Pushed authorization request",
        "RFC 9126 §2, RFC 7636 §4.3",
        "The app sends the request's parameters, with a one-time state and a PKCE challenge, "
        "straight to the authorization server, authenticated as at the token endpoint.",
        list(details),
        at=at,
    )


def refresh(event: Refresh) -> Step:
    """Tell one request's part in a refresh."""
    reason = "proactive (about to expire)" if event.reason == "proactive" else "after a 401"
    return Step(
        APP,
        AUTH,
        "Refresh" if event.role == "refreshed" else "Refresh (shared)",
        "RFC 6749 §6, RFC 9700 §4.14.2",
        ROLE_CAPTIONS[event.role],
        [
            ("reason", reason),
            ("grant_type", "refresh_token"),
            ("new access token", event.access_token),
            ("token version", str(event.version)),
            *event.sent,
        ],
        ms=round(event.seconds * 1000, 1),
    )


def api_call(call: ApiCall) -> Step:
    """Tell one API call."""
    rfc, caption = CALLS[call.token_kind]
    return Step(
        APP,
        API,
        call.operation.replace("_", " ").capitalize(),
        rfc,
        caption,
        [("request", f"{call.method} {call.path}"), ("status", call.status), *call.proof],
        ms=round(call.seconds * 1000, 1),
    )

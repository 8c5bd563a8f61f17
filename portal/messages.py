"""What each failure page says: a title, a sentence, and the way forward."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    action: str  # the label of the way forward
    target: str  # "login", "home", "retry", "grant" or "back"


SIGN_IN_AGAIN = Message(
    "Sign-in expired",
    "This sign-in attempt expired or was started elsewhere. Nothing was saved.",
    "Try signing in again",
    "login",
)

PAGES = {
    # The callback's refusals.
    "invalid_state": SIGN_IN_AGAIN,
    "missing_issuer": Message(
        "Sign-in refused",
        "The answer did not say which authorization server sent it, so it was refused.",
        "Try signing in again",
        "login",
    ),
    "issuer_mismatch": Message(
        "Sign-in refused",
        "The answer came from an authorization server other than the one this app uses.",
        "Try signing in again",
        "login",
    ),
    "access_denied": Message(
        "You declined",
        "You chose not to let this app see your flight reports. Nothing was shared.",
        "Try again",
        "login",
    ),
    "invalid_scope": Message(
        "Permission not available",
        "The app asked for a permission it is not registered for.",
        "Sign in with the default permissions",
        "login",
    ),
    "token_rejected": Message(
        "Sign-in failed",
        "The authorization server would not complete this sign-in.",
        "Try signing in again",
        "login",
    ),
    "invalid_request": SIGN_IN_AGAIN,
    "refused_by_server": Message(
        "Sign-in refused by Altitude Angel",
        "The authorization server would not go on with this sign-in. Nothing was saved.",
        "Try signing in again",
        "login",
    ),
    "malformed_callback": Message(
        "Sign-in refused",
        "The answer that came back from the authorization server was damaged or incomplete, "
        "so it was refused. Nothing was saved.",
        "Try signing in again",
        "login",
    ),
    "rate_limited": Message(
        "Too many sign-in attempts",
        "Too many sign-ins were started from your address just now. Please wait a minute.",
        "Try again",
        "login",
    ),
    "forbidden": Message(
        "Not allowed",
        "Altitude Angel says your account may not do this. You are still signed in.",
        "Your reports",
        "home",
    ),
    "invalid_token_response": Message(
        "Sign-in failed",
        "The authorization server answered with something this app cannot use.",
        "Try signing in again",
        "login",
    ),
    "missing_id_token": Message(
        "Sign-in refused",
        "The authorization server did not say who signed in (no ID token came), so the sign-in "
        "was refused. Nothing was saved.",
        "Try signing in again",
        "login",
    ),
    "invalid_id_token": Message(
        "Sign-in refused",
        "The authorization server's statement of who signed in (its ID token) did not pass "
        "this app's checks, so the sign-in was refused. Nothing was saved.",
        "Try signing in again",
        "login",
    ),
    "other": Message(
        "Sign-in failed",
        "The authorization server could not complete the sign-in.",
        "Try signing in again",
        "login",
    ),
    # Failures of any page.
    "sign_in_required": Message(
        "Please sign in",
        "This page shows your own flight data, so it needs you signed in with Altitude Angel.",
        "Sign in",
        "login",
    ),
    "insufficient_scope": Message(
        "One more permission needed",
        "This page needs a permission you have not granted this app yet.",
        "Grant it",
        "grant",
    ),
    "upstream_unavailable": Message(
        "Altitude Angel is not answering",
        "The platform could not be reached just now. You are still signed in.",
        "Try again",
        "retry",
    ),
    "store_unavailable": Message(
        "Temporarily unavailable",
        "The app cannot reach its session store just now. Please try again in a moment.",
        "Try again",
        "retry",
    ),
    "not_found": Message(
        "Not found", "There is no such flight report among yours.", "Your reports", "home"
    ),
    "api_error": Message(
        "Something went wrong",
        "The platform answered in a way this app did not expect.",
        "Home",
        "home",
    ),
    "csrf": Message(
        "Form expired",
        "This form was stale or did not come from this app, so nothing was changed.",
        "Go back",
        "back",
    ),
    "internal": Message(
        "Something went wrong", "An unexpected error happened. It has been logged.", "Home", "home"
    ),
}

"""What can go wrong, as exceptions a host app can catch or answer with a handler of its own.

Each public error is an HTTP exception with a status and a small default page (JSON for
clients that ask for JSON), so an app that registers no handler still answers sensibly. To
show your own page, register an error handler for the class (or for ``AltitudeAngelError``),
or put a template of your own at ``altitudeangel/error.html``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response


class ConfigError(ValueError):
    """Settings are missing or malformed; the message names each, with what is wrong with it.

    ``name`` is the first setting named, ``problems`` every (setting, problem) pair found.
    """

    def __init__(self, name: str, problem: str, *more: tuple[str, str]) -> None:
        self.problems = ((name, problem), *more)
        super().__init__("; ".join(f"{each} {what}" for each, what in self.problems))
        self.name = name


class AltitudeAngelError(HTTPException):
    """Base of the errors a request can end with; ``kind`` names the failure for pages and logs."""

    code = 500
    kind = "error"
    title = "Something went wrong"
    text = "Signing in with Altitude Angel did not work this time."
    retry_after: int | None = None

    def __init__(self, description: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(description or self.text)
        if retry_after is not None:
            self.retry_after = retry_after

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        """Render the default page, or JSON for clients that prefer it."""
        best = request.accept_mimetypes.best_match(["text/html", "application/json"])
        response: Response
        if best == "application/json":
            response = jsonify({"error": self.kind})
        else:
            page = render_template("altitudeangel/error.html", error=self)
            response = Response(page, mimetype="text/html")
        response.status_code = self.code or 500
        response.headers["Cache-Control"] = "no-store"
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


class SignInRequired(AltitudeAngelError):
    """The request needs a signed-in user, and there is none (any more)."""

    code = 401
    kind = "sign_in_required"
    title = "Please sign in"
    text = "This page needs you signed in with Altitude Angel."

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__()
        self.next_path = next_path


# The characters RFC 6749 allows in error_description (Appendix A.8); anything else is dropped.
SERVER_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,300}")
WHAT_TO_CHECK = {
    "invalid_request": "Check that AA_REDIRECT_URI is registered for this client at the "
    "authorization server exactly as set (scheme, host, port and path).",
    "invalid_client": "Check AA_CLIENT_ID and AA_CLIENT_SECRET (or the client's key) against "
    "the client's registration.",
    "unauthorized_client": "Check that the client is registered for the authorization code "
    "grant and for this redirect URI.",
    "invalid_scope": "Check AA_SCOPES against the scopes the client is registered for.",
    "invalid_grant": "Check that AA_REDIRECT_URI is the one the sign-in started with, and "
    "that this server's clock is right.",
}
CHECK_THE_REGISTRATION = "Check the client's registration and the AA_* settings."


def server_description(value: str | None) -> str:
    """Return an authorization server's error_description if it is well-formed, else ""."""
    return value if value and SERVER_DESCRIPTION.fullmatch(value) else ""


class SignInFailed(AltitudeAngelError):
    """A sign-in could not be completed; ``reason`` says why (an OAuth error code, or ours).

    When the authorization server refused it, ``server_error`` is the error code it answered
    with, ``server_description`` its description, and ``what_to_check`` a hint for the operator.
    When its ID token was refused (``invalid_id_token``), ``check`` names the check it failed.
    """

    code = 400
    kind = "sign_in_failed"
    title = "Sign-in failed"
    text = "The sign-in could not be completed. Nothing was saved."

    def __init__(
        self,
        reason: str,
        next_path: str,
        status: int = 400,
        *,
        server_error: str = "",
        server_description: str = "",
        check: str = "",
    ) -> None:
        super().__init__()
        self.reason = reason
        self.next_path = next_path
        self.code = status
        self.server_error = server_error
        self.server_description = server_description
        self.check = check

    @property
    def what_to_check(self) -> str:
        """Say what to check when the authorization server refused the sign-in, else ""."""
        if not self.server_error:
            return ""
        return WHAT_TO_CHECK.get(self.server_error, CHECK_THE_REGISTRATION)


class AuthServerUnavailable(AltitudeAngelError):
    """The authorization server is down, slow, overloaded or answered garbage."""

    code = 503
    kind = "upstream_unavailable"
    title = "Altitude Angel is not answering"
    text = "The platform could not be reached just now. Please try again in a moment."
    retry_after = 5


class StorageUnavailable(AltitudeAngelError):
    """The app's own store (its Redis, or the token storage given) did not answer in time."""

    code = 503
    kind = "storage_unavailable"
    title = "Signing in is unavailable just now"
    text = "This app could not reach its session store. Please try again in a moment."
    retry_after = 5


class ApiError(AltitudeAngelError):
    """An API refused the call (any 4xx or 5xx answer) or answered in a way the app cannot use.

    As ``requests``' ``raise_for_status``: ``status`` is the API's HTTP status (None when it
    gave none), ``error`` and ``description`` what its body said (``error``,
    ``error_description``), and ``response`` the whole answer, for bodies of other shapes.
    """

    code = 502
    kind = "api_error"
    text = "The platform answered in a way this app did not expect."
    status: int | None = None
    error = ""
    response: Any = None  # the ApiResponse, when the API answered

    def __init__(
        self,
        description: str | None = None,
        retry_after: int | None = None,
        *,
        status: int | None = None,
        error: str = "",
        response: Any = None,
    ) -> None:
        super().__init__(description, retry_after)
        if status is not None:
            self.status = status
        self.error = error
        self.response = response


class ApiUnavailable(ApiError):
    """The API could not answer now (down, slow, 5xx, 429)."""

    code = 503
    kind = "upstream_unavailable"
    title = AuthServerUnavailable.title
    text = AuthServerUnavailable.text
    retry_after = 5


class InsufficientScope(ApiError):
    """The token lacks a scope the call needs (the platform's 401, or RFC 6750's 403)."""

    code = 403
    kind = "insufficient_scope"
    title = "One more permission needed"
    text = "This needs a permission you have not granted this app yet."

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope


class Forbidden(ApiError):
    """403 without ``insufficient_scope``: the user may not do this, whatever the token."""

    code = 403
    kind = "forbidden"
    title = "Not allowed"
    text = "Altitude Angel says your account may not do this. You are still signed in."


class InvalidToken(ApiError):
    """401 ``invalid_token`` from an API: the extension refreshes and retries, once."""

    code = 401
    kind = "invalid_token"


class TokenRejected(Exception):
    """The token endpoint answered with an OAuth error such as ``invalid_grant``."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = server_description(description)


def retry_after_seconds(header: str | None) -> int:
    """Read a Retry-After header's seconds, kept within 1–300 (5 when absent or not a number)."""
    try:
        return max(1, min(int(header or "5"), 300))
    except ValueError:
        return 5

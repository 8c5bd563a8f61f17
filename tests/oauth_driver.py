"""Drive the sandbox's sign-in and consent pages over HTTP like a person, without a browser.

The driver ships with the sandbox (``altitudeangel_sandbox.testing``); the tests use it from there.
"""

from __future__ import annotations

from altitudeangel_sandbox.testing import (
    USERS,
    Form,
    FormParser,
    SandboxUser,
    parse_forms,
    sign_in_over_http,
)

__all__ = [
    "USERS",
    "Form",
    "FormParser",
    "SandboxUser",
    "csrf_token",
    "parse_forms",
    "sign_in_over_http",
]


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    return html.split('name="csrf_token" value="')[1].split('"')[0]

"""Read the claims of a JWT access token for display, without trusting them for anything."""

from __future__ import annotations

import base64
import json
from typing import Any

# Claims that identify the token itself; shown truncated so the page never holds a usable token.
SHOWN_TRUNCATED = {"jti", "sid"}


def peek_claims(token: str) -> dict[str, Any] | None:
    """Return a JWT's payload claims, or None for an opaque token.

    The signature is not checked: the app only shows the claims to the user. The API, which
    accepts or rejects the token, is the one that verifies it.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    return {
        key: (str(value)[:8] + "…" if key in SHOWN_TRUNCATED else value)
        for key, value in claims.items()
    }

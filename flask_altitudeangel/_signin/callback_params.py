"""What a well-formed authorization response looks like (RFC 6749 §4.1.2, Appendix A; RFC 9207).

Anything else is refused before it reaches the store, a comparison or the token endpoint: a
malformed parameter is an attack or a broken server, never a reason for a 500.
"""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from flask_altitudeangel._signin.pending import STATE

VSCHAR = re.compile(r"[\x20-\x7e]{1,2048}")  # a code: printable ASCII (Appendix A.11)
NQSCHAR = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}")  # an error code (A.7)
ISSUER = re.compile(r"https?://[\x21-\x7e]{1,2040}")
SINGLE = ("state", "code", "error", "error_description", "error_uri", "iss")


def callback_params_are_sound(params: MultiDict[str, str]) -> bool:
    """Tell whether the callback's query is a well-formed code or error response."""
    if any(len(params.getlist(name)) > 1 for name in SINGLE):
        return False  # RFC 6749 §3.1: no parameter may be sent more than once
    state, code, error = params.get("state"), params.get("code"), params.get("error")
    if state is None or not STATE.fullmatch(state):
        return False
    if (code is None) == (error is None):
        return False
    if code is not None and not VSCHAR.fullmatch(code):
        return False
    if error is not None and not NQSCHAR.fullmatch(error):
        return False
    issuer = params.get("iss")
    return issuer is None or bool(ISSUER.fullmatch(issuer))

"""Blinker signals: how a host app hooks into sign-in and the token lifecycle.

Each is sent with the Flask app as sender, from the request (or command) it happens in::

    from flask_altitudeangel import signals

    @signals.signed_in.connect_via(app)
    def welcome(app, login, **extra):
        app.logger.info("signed in: %s", login.user_name)

Receivers get keyword arguments only, and should accept ``**extra``: later versions may send
more. A receiver that raises makes the request fail, so keep them small.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

before_sign_in = _signals.signal("altitudeangel.before-sign-in")
before_sign_in.__doc__ = (
    "A sign-in is about to start (``step`` is ``login``) or to finish (``callback``), before "
    "anything is read or written. A receiver may refuse it: return a Response (the first one "
    "returned is sent as the answer), or raise an exception your app handles (an HTTPException "
    "such as a 429 renders as itself). Return None to let it go on."
)

signed_in = _signals.signal("altitudeangel.signed-in")
signed_in.__doc__ = "A user signed in: ``login`` (a Login)."

sign_in_failed = _signals.signal("altitudeangel.sign-in-failed")
sign_in_failed.__doc__ = "A callback was refused: ``reason`` (an OAuth error code or ours)."

token_refreshed = _signals.signal("altitudeangel.token-refreshed")
token_refreshed.__doc__ = (
    "A request got a newer token: ``login_id`` and ``refresh`` (a Refresh: whether this "
    "request spent the refresh token, waited for another, or found it done)."
)

signed_out = _signals.signal("altitudeangel.signed-out")
signed_out.__doc__ = (
    "A login ended and its grant was revoked (or is being): ``login_id`` and ``reason`` "
    "(signed_out, idle, absolute, replaced, rejected, swept)."
)

code_exchanged = _signals.signal("altitudeangel.code-exchanged")
code_exchanged.__doc__ = (
    "The authorization code was exchanged, before the user is signed in: ``exchange`` (a "
    "CodeExchange, every secret in it shortened or fingerprinted). Kept for hosts that use it: "
    "``protocol_message`` tells each message of the sign-in, proofs and assertions included."
)

api_called = _signals.signal("altitudeangel.api-called")
api_called.__doc__ = "An API was called with the user's or the app's token: ``call`` (an ApiCall)."

protocol_message = _signals.signal("altitudeangel.protocol-message")
protocol_message.__doc__ = (
    "A protocol message was sent or received: ``message`` (a ProtocolMessage: the "
    "authorization request and response, a pushed request, each token request and response, "
    "a revocation, an API call, the end-session request, a back-channel logout and its "
    "answer; every secret shortened or "
    "fingerprinted). Sent from any thread, with the app as sender; a message sent outside a "
    "request (a background revocation) has no app context. An API call's messages are made "
    "only when this signal or ``api_called`` has a receiver."
)

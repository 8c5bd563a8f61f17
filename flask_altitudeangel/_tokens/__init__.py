"""The token lifecycle: the only code that touches stored tokens, refresh locks and grants."""

from flask_altitudeangel._tokens.lifecycle import TokenLifecycle
from flask_altitudeangel._tokens.model import UnsupportedTokenType, UserToken, token_from_response

__all__ = ["TokenLifecycle", "UnsupportedTokenType", "UserToken", "token_from_response"]

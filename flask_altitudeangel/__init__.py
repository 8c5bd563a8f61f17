"""Sign in with Altitude Angel: OAuth 2.0 sign-in and the token lifecycle, as a Flask extension.

    from flask import Flask
    from flask_altitudeangel import AltitudeAngel, login_required

    app = Flask(__name__)
    app.config.update(SECRET_KEY=..., AA_CLIENT_ID=..., AA_CLIENT_SECRET=...,
                      AA_REDIRECT_URI="https://example.com/callback",
                      AA_REDIS_URL="redis://localhost:6379/0")
    aa = AltitudeAngel(app)

    @app.get("/me")
    @login_required
    def me():
        return aa.user_api.get(aa.config.userprofile_url).json()

Everything a host uses is named here; the rest is private. See docs/extension.md.
"""

from flask_altitudeangel import signals
from flask_altitudeangel._api import ApiClient, ApiResponse
from flask_altitudeangel._config import Config, load_config
from flask_altitudeangel._crypto import Cipher
from flask_altitudeangel._extension import AltitudeAngel, login_required
from flask_altitudeangel._metrics import REGISTRY as METRICS
from flask_altitudeangel._redis import connect as connect_redis
from flask_altitudeangel._scopes import SCOPES
from flask_altitudeangel._settings import SettingsReader
from flask_altitudeangel._signin.redirects import own_page
from flask_altitudeangel.errors import (
    AltitudeAngelError,
    ApiError,
    ApiUnavailable,
    AuthServerUnavailable,
    ConfigError,
    Forbidden,
    InsufficientScope,
    SignInFailed,
    SignInRequired,
    StorageUnavailable,
)
from flask_altitudeangel.records import (
    ApiCall,
    CodeExchange,
    Details,
    Login,
    ProtocolMessage,
    Refresh,
    TokenFacts,
    fingerprint,
    shown,
)

__all__ = [
    "METRICS",
    "SCOPES",
    "AltitudeAngel",
    "AltitudeAngelError",
    "ApiCall",
    "ApiClient",
    "ApiError",
    "ApiResponse",
    "ApiUnavailable",
    "AuthServerUnavailable",
    "Cipher",
    "CodeExchange",
    "Details",
    "Config",
    "ConfigError",
    "Forbidden",
    "InsufficientScope",
    "Login",
    "ProtocolMessage",
    "Refresh",
    "SignInFailed",
    "SettingsReader",
    "SignInRequired",
    "StorageUnavailable",
    "TokenFacts",
    "connect_redis",
    "fingerprint",
    "load_config",
    "login_required",
    "own_page",
    "shown",
    "signals",
]

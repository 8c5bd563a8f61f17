"""Extensions created bare and bound to the app in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# Per client address, as ProxyFix reports it behind TRUST_PROXY proxies. Only the routes that
# start and finish a sign-in carry a limit (portal.auth); the counters live in the app's Redis.
limiter = Limiter(key_func=get_remote_address, strategy="fixed-window")

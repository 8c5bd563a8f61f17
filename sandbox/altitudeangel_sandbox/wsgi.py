"""The WSGI entry point for servers other than ``python -m altitudeangel_sandbox``."""

from altitudeangel_sandbox import create_app
from altitudeangel_sandbox.oauth.server import allow_plain_http

allow_plain_http()
app = create_app()

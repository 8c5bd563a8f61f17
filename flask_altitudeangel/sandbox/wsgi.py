"""The WSGI entry point for servers other than ``python -m flask_altitudeangel.sandbox``."""

from flask_altitudeangel.sandbox import create_app
from flask_altitudeangel.sandbox.oauth import allow_plain_http

allow_plain_http()
app = create_app()

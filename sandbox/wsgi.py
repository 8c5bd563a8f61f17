"""The WSGI entry point for servers other than ``python -m sandbox``."""

from sandbox import create_app
from sandbox.oauth import allow_plain_http

allow_plain_http()
app = create_app()

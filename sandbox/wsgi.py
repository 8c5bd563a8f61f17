"""The WSGI entry point for servers other than ``python -m sandbox``."""

from sandbox import create_app

app = create_app()

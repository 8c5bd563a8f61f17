"""The peer's WSGI entry point: ``gunicorn bench.peers.wsgi:app``."""

from bench.peers.authlib_session import create_peer

app = create_peer()

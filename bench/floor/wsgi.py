"""The floor's WSGI entry point: ``gunicorn bench.floor.wsgi:app``."""

from bench.floor import create_floor

app = create_floor()

"""The baseline's WSGI entry point: ``gunicorn bench.baseline.wsgi:app``."""

from bench.baseline import create_baseline

app = create_baseline()

# syntax=docker/dockerfile:1
# The client web app under gunicorn. Two images come out of this file:
#   docker build -t aa-portal .                          the app (the default, last stage)
#   docker build --target sandbox -t aa-portal-sandbox .  the local stand-in of the platform
# The app image holds no sandbox code and no test or lint tools.

# Bookworm's base includes tzdata, which the report form's time zones need (zoneinfo).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Dependencies in a virtualenv, built once and copied into both images.
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# What both images share: the virtualenv, a non-root user, no bytecode or buffering surprises.
FROM ${PYTHON_IMAGE} AS base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --create-home --home-dir /home/portal portal
COPY --from=deps /opt/venv /opt/venv
WORKDIR /srv

# The sandbox: only for docker-compose and local trials, never for production. It is its own
# distribution (sandbox/), so the app's image below holds none of it.
FROM base AS sandbox
COPY --chown=root:root sandbox/altitudeangel_sandbox ./altitudeangel_sandbox
USER 10001:10001
ENV SANDBOX_HOST=0.0.0.0 \
    SANDBOX_PORT=5001
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/.well-known/oauth-authorization-server' % os.environ['SANDBOX_PORT'], timeout=2)"]
CMD ["python", "-m", "altitudeangel_sandbox"]

# The app: the default target.
FROM base AS app
COPY --chown=root:root app.py wsgi.py gunicorn.conf.py ./
COPY --chown=root:root flask_altitudeangel ./flask_altitudeangel
COPY --chown=root:root portal ./portal
COPY --chown=root:root templates ./templates
COPY --chown=root:root static ./static
USER 10001:10001
ENV GUNICORN_BIND=0.0.0.0:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['GUNICORN_BIND'].rsplit(':', 1)[1], timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]

"""Liveness, readiness and metrics for load balancers and Prometheus, and the site icon."""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, abort, current_app, jsonify, request, send_from_directory
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from flask_altitudeangel import METRICS
from portal.extensions import readiness
from portal.metrics import REGISTRY

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Alive: answers without Redis or the authorization server."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Answer browsers that ask for the icon before reading the page's link to it."""
    return send_from_directory(str(current_app.static_folder), "favicon.svg", max_age=86400)


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when Redis answers and the authorization server's endpoints are known.

    JSON: ``{"ready": false, "problems": [...]}`` with a 503, each problem a sentence; the
    metadata is asked for here when it is due (see ``aa.readiness_problems``).
    """
    problems = readiness.problems()
    answer = jsonify(ready=not problems, problems=problems)
    answer.status_code = 503 if problems else 200
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/metrics")
def metrics() -> Response:
    """Serve the metrics to a scraper holding METRICS_TOKEN; of every gunicorn worker."""
    expected = current_app.config["PORTAL_SETTINGS"].metrics_token
    if not expected:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return Response(
            "a bearer token is needed\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Under gunicorn every metric of every worker is in the shared directory.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY) + generate_latest(METRICS)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)

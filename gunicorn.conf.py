"""gunicorn settings for the client web app: ``gunicorn -c gunicorn.conf.py wsgi:app``.

The app is I/O-bound (Redis, the token endpoint, the API), so each worker runs threads; the
worker count follows the cores. Every outbound call has a timeout well under ``timeout``, so a
hung upstream fails the request with a page instead of getting the worker killed.
"""

import os
import tempfile

from prometheus_client import multiprocess

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30  # HTTP calls give up after 3 s (connect) + 10 s (read); Redis after 1 s
graceful_timeout = 10
keepalive = 5
# gunicorn's control socket sits at one path per user, so two instances on one machine would
# fight over it; nothing here uses it.
control_socket_disable = True

# Only the path, never the query string: the callback's query holds the code and state.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
# The same lines as gunicorn's own logger, made from the atoms the format names alone.
logger_class = "portal.access_log.AccessLog"
errorlog = "-"

# Behind a reverse proxy, trust X-Forwarded-* only from the proxy's address (and set
# TRUST_PROXY=1 so the app reads them too). Trusting more lets clients spoof their address
# and scheme; trusting less makes the app think HTTPS requests are plain HTTP.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Metrics of every worker, merged at /metrics.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")


def child_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    multiprocess.mark_process_dead(worker.pid)

"""Structured logging: one line per event with a request id, and never a secret."""

from __future__ import annotations

import logging
import random
import re
import sys

from flask import Request, g, has_request_context
from flask.ctx import _AppCtxGlobals

REQUEST_ID = re.compile(r"[A-Za-z0-9\-]{8,64}")
# Libraries that log tokens, codes or PKCE verifiers at DEBUG level are kept above it.
QUIET_LOGGERS = ("authlib", "urllib3", "requests", "werkzeug")
# The portal's own lines, and the extension's, whose security events (sign_in_refused,
# signed_in, signed_out) come from flask_altitudeangel.events.
SHOWN_LOGGERS = ("portal", "flask_altitudeangel")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging() -> None:
    """Log one line per event to stderr, tagged with the request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"
        )
    )
    handler.addFilter(RequestIdFilter())
    for name in SHOWN_LOGGERS:
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
    logging.getLogger("portal").propagate = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def assign_request_id(asked: Request, here: _AppCtxGlobals) -> None:
    """Take the caller's request id when it is sane, else make one (``here`` is the request's g).

    A made one is 64 bits of the process's own random generator (reseeded in each forked
    worker), not the system's: ``os.urandom`` lets go of the interpreter lock for its system
    call, and with a worker's threads busy, taking it back costs the request a wait on every
    page. An id ties log lines together and need not be unguessable: a caller may send its own.
    """
    # From the environ, as asked.headers.get would give it, without its KeyError when absent.
    incoming = asked.environ.get("HTTP_X_REQUEST_ID", "")
    if incoming and REQUEST_ID.fullmatch(incoming):
        here.request_id = incoming
    else:
        here.request_id = f"{random.getrandbits(64):016x}"  # nosec B311 - not a secret

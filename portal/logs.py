"""Structured logging: one line per event with a request id, and never a secret."""

from __future__ import annotations

import logging
import re
import secrets
import sys

from flask import g, has_request_context, request
from werkzeug.wrappers import Response

REQUEST_ID = re.compile(r"[A-Za-z0-9\-]{8,64}")
# Libraries that log tokens, codes or PKCE verifiers at DEBUG level are kept above it.
QUIET_LOGGERS = ("authlib", "urllib3", "requests", "werkzeug")


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
    portal_logger = logging.getLogger("portal")
    if not portal_logger.handlers:
        portal_logger.addHandler(handler)
        portal_logger.setLevel(logging.INFO)
        portal_logger.propagate = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def assign_request_id() -> None:
    """Take the caller's request id when it is sane, else make one."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)


def echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response

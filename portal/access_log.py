"""gunicorn's access log line for line, without building every atom for every request.

gunicorn's ``Logger.access`` makes a dict of every atom its format language knows, the
request's and the response's headers and the whole WSGI environ among them, each name
lowercased and each value escaped, and a strftime of the time, then formats a line that names
seven of them: about 70 µs of a page's CPU. Here each atom the format names is made when the
line asks for it, as gunicorn makes it. ``gunicorn.conf.py`` names this class.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

Atom = Callable[["_Atoms"], Any]


class AccessLog(Logger):
    """gunicorn's logger, writing the access log's lines from the atoms they name alone."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled or not self.access_log.isEnabledFor(logging.INFO):
            return
        try:
            line = self.cfg.access_log_format % _Atoms(self, resp, req, environ, request_time)
            self.access_log.info("%s", line)
        except Exception:
            self.error(traceback.format_exc())


class _Atoms:
    """One line's atoms, each made when the format asks for it, as gunicorn's ``atoms`` and
    ``SafeAtoms`` make it: a string's double quotes escaped, an unknown atom ``-``."""

    def __init__(
        self,
        logger: Logger,
        resp: Any,
        req: Any,
        environ: dict[str, Any],
        request_time: timedelta,
    ) -> None:
        self.logger = logger
        self.resp = resp
        self.req = req
        self.environ = environ
        self.took = request_time

    def __getitem__(self, name: str) -> Any:
        if name.startswith("{"):
            value = self._named(name.lower())
        else:
            atom = ATOMS.get(name)
            value = "-" if atom is None else atom(self)
        return value.replace('"', '\\"') if isinstance(value, str) else value

    def _named(self, name: str) -> Any:
        """A request header (``{name}i``), a response header (``{name}o``) or an environ
        variable (``{name}e``); the last of a repeated header, as gunicorn's dict keeps."""
        kind, wanted = name[-1:], name[1:-2]
        if name[-2:-1] != "}" or kind not in "ioe":
            return "-"
        if kind == "e":
            found = [v for k, v in self.environ.items() if k.lower() == wanted]
            return found[-1] if found else "-"
        headers = getattr(self.req, "headers", self.req) if kind == "i" else self.resp.headers
        if hasattr(headers, "items"):
            headers = headers.items()
        found = [v for k, v in headers if k.lower() == wanted]
        return found[-1] if found else "-"


def _status(atoms: _Atoms) -> Any:
    status = atoms.resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


def _request_line(atoms: _Atoms) -> str:
    e = atoms.environ
    return f"{e['REQUEST_METHOD']} {e['RAW_URI']} {e['SERVER_PROTOCOL']}"


def _sent(atoms: _Atoms) -> Any:
    return getattr(atoms.resp, "sent", None)


def _micros(atoms: _Atoms) -> int:
    return atoms.took.seconds * 1000000 + atoms.took.microseconds


def _millis(atoms: _Atoms) -> int:
    return atoms.took.seconds * 1000 + int(atoms.took.microseconds / 1000)


ATOMS: dict[str, Atom] = {
    "h": lambda a: a.environ.get("REMOTE_ADDR", "-"),
    "l": lambda a: "-",
    "u": lambda a: a.logger._get_user(a.environ) or "-",
    "t": lambda a: a.logger.now(),
    "r": _request_line,
    "s": _status,
    "m": lambda a: a.environ.get("REQUEST_METHOD"),
    "U": lambda a: a.environ.get("PATH_INFO"),
    "q": lambda a: a.environ.get("QUERY_STRING"),
    "H": lambda a: a.environ.get("SERVER_PROTOCOL"),
    "b": lambda a: _sent(a) is not None and str(_sent(a)) or "-",
    "B": _sent,
    "f": lambda a: a.environ.get("HTTP_REFERER", "-"),
    "a": lambda a: a.environ.get("HTTP_USER_AGENT", "-"),
    "T": lambda a: a.took.seconds,
    "D": _micros,
    "M": _millis,
    "L": lambda a: f"{a.took.seconds:d}.{a.took.microseconds:06d}",
    "p": lambda a: f"<{os.getpid()}>",
}

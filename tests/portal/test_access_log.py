"""The access log: gunicorn's lines exactly, written by portal.access_log, never a query string."""

from __future__ import annotations

import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from gunicorn.config import Config
from gunicorn.glogging import Logger

from portal.access_log import AccessLog
from tests.services import ROOT, RedisServer, ServiceProcess, app_process

# Every atom gunicorn documents, headers and environ variables in any case, and unknown ones.
EVERY_ATOM = (
    '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(m)s %(U)s %(q)s %(H)s %(b)s %(B)s "%(f)s" "%(a)s" '
    "%(T)s %(D)s %(M)s %(L)s %(p)s %(nope)s %({x-request-id}o)s %({X-Request-ID}o)s "
    "%({set-cookie}o)s %({user-agent}i)s %({accept}i)s %({missing}i)s %({path_info}e)s "
    "%({remote_addr}e)s %({nothing}e)s %({x-request-id}x)s %({x-request-id})s"
)


def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Return gunicorn.conf.py's settings, as gunicorn reads them."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # the file would make one
    names = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {k: v for k, v in names.items() if not k.startswith("_") and k in Config().settings}


def logged(kind: type[Logger], format_: str, out: Path, request: dict[str, Any]) -> str:
    """Return the access log's line for ``request``, written by a logger of class ``kind``."""
    config = Config()
    config.set("accesslog", str(out))
    config.set("access_log_format", format_)
    logger = kind(config)
    try:
        logger.access(request["resp"], request["req"], request["environ"], request["took"])
    finally:
        for log in (logger.access_log, logger.error_log):  # gunicorn's, global to the process
            for handler in list(log.handlers):
                handler.close()
                log.removeHandler(handler)
    return out.read_text()


def request_seen(path: str, query: str, **extra: Any) -> dict[str, Any]:
    """A request and its answer as gunicorn's gthread worker hands them to the logger."""
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?{query}" if query else path,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": 'curl/8 "quoted"',
        "HTTP_REFERER": "http://127.0.0.1/",
        "wsgi.url_scheme": "http",
        **extra.pop("environ", {}),
    }
    headers = [("Host", "127.0.0.1"), ("User-Agent", environ["HTTP_USER_AGENT"])]
    headers += extra.pop("headers", [])
    resp = SimpleNamespace(
        status="200 OK",
        sent=5123,
        headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("X-Request-ID", "0f1091ab7a3ce877"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ],
    )
    for name, value in extra.items():
        setattr(resp, name, value)
    took = timedelta(seconds=1, microseconds=23456)
    return {"resp": resp, "req": SimpleNamespace(headers=headers), "environ": environ, "took": took}


REQUESTS = [
    request_seen("/flight-reports", "page=2"),
    request_seen("/callback", "code=secret-code&state=s", headers=[("Accept", "text/html")]),
    request_seen('/a"quoted"path', "", status=404, sent=None),
    request_seen(
        "/", "", environ={"HTTP_AUTHORIZATION": "Basic YWxpY2U6c2VjcmV0"}, status="503 Busy"
    ),
]


@pytest.mark.parametrize("request_", REQUESTS)
def test_every_atom_is_written_as_gunicorn_writes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request_: dict[str, Any]
) -> None:
    theirs = logged(Logger, EVERY_ATOM, tmp_path / "gunicorn.log", request_)
    ours = logged(AccessLog, EVERY_ATOM, tmp_path / "ours.log", request_)
    assert ours == theirs
    assert ours.count("\n") == 1


@pytest.mark.parametrize("request_", REQUESTS)
def test_the_configured_line_is_gunicorns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request_: dict[str, Any]
) -> None:
    configured = settings(monkeypatch, tmp_path)
    assert configured["logger_class"] == "portal.access_log.AccessLog"
    format_ = configured["access_log_format"]
    theirs = logged(Logger, format_, tmp_path / "gunicorn.log", request_)
    ours = logged(AccessLog, format_, tmp_path / "ours.log", request_)
    assert ours == theirs
    assert (
        request_["environ"]["QUERY_STRING"] not in ours or not request_["environ"]["QUERY_STRING"]
    )


def test_gunicorn_writes_the_portals_line_without_the_query(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    app = app_process(redis_server.url, sandbox, workers=1).start()
    try:
        answer = requests.get(
            app.url + "/?code=never-logged", headers={"X-Request-ID": "access-log-1"}, timeout=10
        )
        assert answer.status_code == 200
        size = len(answer.content)
    finally:
        app.stop()
    lines = [line for line in app.log_text().splitlines() if "rid=access-log-1" in line]
    assert len(lines) == 1
    assert re.fullmatch(
        rf'127\.0\.0\.1 "GET / HTTP/1\.1" 200 {size} \d+ms rid=access-log-1', lines[0]
    )
    assert "never-logged" not in app.log_text()

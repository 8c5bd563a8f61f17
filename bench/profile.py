"""Where a page view's time goes: pyinstrument over in-process requests, grouped by owner.

The app runs in this process on the same Redis and API upstream as under gunicorn; only the
time inside Flask's ``wsgi_app`` is counted, so the test client's own work is left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import Flask
from pyinstrument import Profiler

OWNERS = (
    ("/portal/", None),  # portal/<module>.py, named by module
    ("/templates/", "templates (compiled Jinja)"),
    ("/bench/", "bench baseline/peer code"),
    ("/jinja2/", "Jinja2"),
    ("/flask_session/", "Flask-Session"),
    ("/flask_wtf/", "Flask-WTF"),
    ("/flask/", "Flask"),
    ("/werkzeug/", "Werkzeug"),
    ("/redis/", "redis-py"),
    ("/urllib3/", "urllib3"),
    ("/cryptography/", "cryptography (Fernet)"),
    ("/prometheus_client/", "prometheus_client"),
    ("/itsdangerous/", "itsdangerous"),
    ("/msgspec/", "msgspec"),
    ("/json/", "json"),
    ("/http/", "http.client"),
    ("socket.py", "socket"),
    ("/logging/", "logging"),
)


@dataclass(frozen=True)
class Profile:
    """Microseconds per request: in total, per owner (self time), per hottest function."""

    requests: int
    total_us: float
    owners: list[tuple[str, float]]
    functions: list[tuple[str, float]]  # self time
    portal: list[tuple[str, float]]  # inclusive time of the app's own functions


def profile(app: Flask, path: str, cookie: str, requests: int) -> Profile:
    """Serve ``requests`` GETs of ``path`` in-process under pyinstrument."""
    client = app.test_client()
    name, _, value = cookie.partition("=")
    client.set_cookie(name, value)
    for _ in range(20):  # warm caches, pools and compiled templates first
        _get(client, path)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(requests):
        _get(client, path)
    session = profiler.stop()
    roots = list(_wsgi_roots(session.root_frame()))
    owners: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    portal: Counter[str] = Counter()
    for root in roots:
        _walk(root, "Flask", owners, functions, portal, set())
    per = 1e6 / requests
    return Profile(
        requests=requests,
        total_us=sum(r.time for r in roots) * per,
        owners=[(k, v * per) for k, v in owners.most_common()],
        functions=[(k, v * per) for k, v in functions.most_common(20)],
        portal=[(k, v * per) for k, v in portal.most_common(15)],
    )


def _get(client: Any, path: str) -> None:
    answer = client.get(path)
    if answer.status_code != 200:
        raise RuntimeError(f"{path} answered {answer.status_code} in-process: {answer.headers}")


def _wsgi_roots(frame: Any) -> Any:
    if frame.function == "wsgi_app" and frame.file_path.endswith("flask/app.py"):
        yield frame
        return
    for child in frame.children:
        yield from _wsgi_roots(child)


def _walk(
    frame: Any,
    parent: str,
    owners: Counter[str],
    functions: Counter[str],
    portal: Counter[str],
    open_portal: set[str],
) -> None:
    real = [child for child in frame.children if not child.is_synthetic]
    # pyinstrument keeps a frame's own time in synthetic "[self]" children.
    self_time = frame.time - sum(child.time for child in real)
    path = frame.file_path or ""
    owner = owner_of(path, frame.function, parent)
    owners[owner] += self_time
    functions[f"{frame.function} ({_short(path)}:{frame.line_no})"] += self_time
    name = f"{_short(path)}:{frame.function}" if "/portal/" in path else ""
    inner = open_portal
    if name and name not in open_portal:  # count recursion once
        portal[name] += frame.time
        inner = open_portal | {name}
    for child in real:
        _walk(child, owner, owners, functions, portal, inner)


def owner_of(path: str, function: str, parent: str) -> str:
    """Name the package, or the app's module, that a frame's time belongs to.

    Built-in functions count for their caller, except socket calls: under a wall-clock
    profiler those are mostly waiting for Redis or the API.
    """
    if function.startswith("socket."):
        return "socket I/O (incl. waiting for Redis and the API)"
    if not path or path.startswith("<"):
        return parent
    for marker, owner in OWNERS:
        if marker in path:
            return owner or "portal/" + path.rsplit("/portal/", 1)[1]
    return "Python stdlib"


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/work/", "/lib/python3.11/"):
        if marker in path:
            return path.rsplit(marker, 1)[1].removeprefix("main/")
    return path.rsplit("/", 1)[-1]


def compare(app: Profile, baseline: Profile) -> dict[str, Any]:
    """Return both profiles and where the app spends more than the baseline, per request."""
    owners = dict(app.owners)
    base = dict(baseline.owners)
    extra = {k: owners.get(k, 0.0) - base.get(k, 0.0) for k in owners.keys() | base.keys()}
    functions = dict(app.functions)
    base_functions = dict(baseline.functions)
    return {
        "app_us": app.total_us,
        "baseline_us": baseline.total_us,
        "requests": app.requests,
        "owners": [
            (k, owners.get(k, 0.0), base.get(k, 0.0))
            for k, _ in sorted(extra.items(), key=lambda kv: -abs(kv[1]))
        ][:16],
        "app_functions": [(k, v, base_functions.get(k, 0.0)) for k, v in functions.items()],
        "app_inclusive": app.portal,
    }

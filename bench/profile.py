"""Where a page view's time goes: pyinstrument over in-process requests, grouped by owner.

The app runs in this process on the same Redis and API upstream as under gunicorn; only the
time inside Flask's ``wsgi_app`` is counted, so the test client's own work is left out.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from pyinstrument import Profiler

from bench.services import ROOT

OWNERS = (
    ("/portal/", None),  # the app's own code, named by module: portal/<module>.py
    ("/flask_altitudeangel/", None),  # and the extension's
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


@dataclass
class Profile:
    """Seconds per owner, function and app function, summed over the chunks profiled."""

    requests: int = 0
    seconds: float = 0.0
    cpu_requests: int = 0
    cpu_seconds: float = 0.0  # process CPU time of unprofiled requests (with the test client)
    owners: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)
    portal: Counter[str] = field(default_factory=Counter)  # inclusive time of the app's functions

    def per_view(self, counter: Counter[str], top: int) -> list[tuple[str, float]]:
        """Return the ``top`` entries of ``counter`` in microseconds per request."""
        return [(k, v * 1e6 / self.requests) for k, v in counter.most_common(top)]


def profile_pair(
    app: Flask, baseline: Flask, path: str, cookie: str, requests: int, chunks: int = 4
) -> dict[str, Any]:
    """Profile app and baseline alternately, in chunks, so drifting load hits both alike."""
    clients = [_client(app, path, cookie), _client(baseline, path, cookie)]
    profiles = [Profile(), Profile()]
    for _ in range(chunks):
        for client, result in zip(clients, profiles, strict=True):
            _time_cpu(client, path, requests // chunks, result)
            _profile_chunk(client, path, requests // chunks, result)
    return compare(*profiles)


def _client(app: Flask, path: str, cookie: str) -> Any:
    client = app.test_client()
    name, _, value = cookie.partition("=")
    client.set_cookie(name, value)
    for _ in range(20):  # warm caches, pools and compiled templates first
        _get(client, path)
    return client


def _time_cpu(client: Any, path: str, requests: int, result: Profile) -> None:
    started = time.process_time()
    for _ in range(requests):
        _get(client, path)
    result.cpu_seconds += time.process_time() - started
    result.cpu_requests += requests


def _profile_chunk(client: Any, path: str, requests: int, result: Profile) -> None:
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(requests):
        _get(client, path)
    session = profiler.stop()
    for root in _wsgi_roots(session.root_frame()):
        result.seconds += root.time
        _walk(root, "Flask", result.owners, result.functions, result.portal, set())
    result.requests += requests


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
    name = f"{_short(path)}:{frame.function}" if _is_app_code(path) else ""
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
            return owner or marker.strip("/") + "/" + path.rsplit(marker, 1)[1]
    return "Python stdlib"


def _is_app_code(path: str) -> bool:
    return any(marker in path for marker, owner in OWNERS if owner is None)


def _short(path: str) -> str:
    """Name a file by its package's path, or the checkout's (whichever worktree it is)."""
    if "/site-packages/" in path:
        return path.rsplit("/site-packages/", 1)[1]
    if path.startswith(f"{ROOT}/"):
        return path.removeprefix(f"{ROOT}/")
    if "/lib/python3.11/" in path:
        return path.rsplit("/lib/python3.11/", 1)[1]
    return path.rsplit("/", 1)[-1]


def compare(app: Profile, baseline: Profile) -> dict[str, Any]:
    """Return both profiles and where the app spends more than the baseline, per request."""
    owners, base = dict(app.per_view(app.owners, 40)), dict(baseline.per_view(baseline.owners, 40))
    extra = {k: owners.get(k, 0.0) - base.get(k, 0.0) for k in owners.keys() | base.keys()}
    functions = dict(baseline.per_view(baseline.functions, 10_000))
    return {
        "requests": app.requests,
        "app_us": app.seconds * 1e6 / app.requests,
        "baseline_us": baseline.seconds * 1e6 / baseline.requests,
        "app_cpu_us": app.cpu_seconds * 1e6 / app.cpu_requests,
        "baseline_cpu_us": baseline.cpu_seconds * 1e6 / baseline.cpu_requests,
        "owners": [
            (k, owners.get(k, 0.0), base.get(k, 0.0))
            for k, _ in sorted(extra.items(), key=lambda kv: -abs(kv[1]))
        ][:16],
        "app_functions": [
            (k, v, functions.get(k, 0.0)) for k, v in app.per_view(app.functions, 12)
        ],
        "app_inclusive": app.per_view(app.portal, 15),
    }

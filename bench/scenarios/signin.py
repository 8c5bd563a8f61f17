"""Sign-in cost: each HTTP hop of a scripted sign-in, timed, split between app and sandbox.

login → authorize → sign-in form → consent → callback → first page. /login, the callback and the
first page call the sandbox themselves (the pushed authorization request, code exchange, profile,
the reports API); the app's own
/metrics say how long those calls took, which is sandbox time inside an app hop.
"""

from __future__ import annotations

import statistics
from typing import Any
from urllib.parse import urlsplit

import requests

from altitudeangel_sandbox.processes import ServiceProcess
from altitudeangel_sandbox.testing import USERS, SandboxUser
from bench import metrics
from bench.world import PAGE

# The sandbox calls the app makes inside its hops, by metric name and labels.
INNER_CALLS = {
    # With a server that takes pushed authorization requests (the sandbox does), /login pushes.
    "/login": [("altitudeangel_token_endpoint_seconds_sum", {"kind": "pushed_authorization"})],
    "/callback": [
        ("altitudeangel_token_endpoint_seconds_sum", {"kind": "authorization_code"}),
        ("altitudeangel_api_seconds_sum", {"operation": "user_profile"}),
    ],
    PAGE: [("altitudeangel_api_seconds_sum", {"operation": "list_reports"})],
}


def run(app: ServiceProcess, sandbox: ServiceProcess, times: int) -> dict[str, Any]:
    """Sign in ``times`` times; the sandbox skips the consent page once it has been answered."""
    rounds = [sign_in_once(app, sandbox) for _ in range(times)]
    labels = list(dict.fromkeys(step["step"] for r in rounds for step in r))
    steps = []
    for label in labels:
        same = [step for r in rounds for step in r if step["step"] == label]
        steps.append(
            {
                "step": label,
                "served_by": same[0]["served_by"],
                "rounds": len(same),
                **{k: statistics.median(s[k] for s in same) for k in ("ms", "sandbox_ms")},
            }
        )
    return {
        "steps": steps,
        "app_ms": statistics.median(_app_ms(r) for r in rounds),
        "sandbox_ms": statistics.median(_sandbox_ms(r) for r in rounds),
        "rounds": times,
    }


def _app_ms(steps: list[dict[str, Any]]) -> float:
    return sum(s["ms"] - s["sandbox_ms"] for s in steps if s["served_by"] == "app")


def _sandbox_ms(steps: list[dict[str, Any]]) -> float:
    return sum(s["ms"] if s["served_by"] == "sandbox" else s["sandbox_ms"] for s in steps)


def sign_in_once(app: ServiceProcess, sandbox: ServiceProcess) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    browser, person_http = requests.Session(), requests.Session()
    person_http.hooks["response"].append(lambda r, *a, **k: steps.append(_hop(r, sandbox)))
    started = _app_hop(browser, app, app.url + "/login", steps)
    person = SandboxUser("alice", USERS["alice"], http=person_http)
    callback = person.authorize(started.headers["Location"], app.url + "/callback")
    _app_hop(browser, app, callback, steps)
    _app_hop(browser, app, app.url + PAGE, steps)
    return steps


def _app_hop(
    browser: requests.Session, app: ServiceProcess, url: str, steps: list[dict[str, Any]]
) -> requests.Response:
    path = urlsplit(url).path
    inner = INNER_CALLS.get(path, [])
    before = [metrics.samples(app, name, **labels) for name, labels in inner]
    answer = browser.get(url, allow_redirects=False, timeout=10)
    after = [metrics.samples(app, name, **labels) for name, labels in inner]
    if answer.status_code >= 400:
        raise RuntimeError(f"{path} answered {answer.status_code}")
    step = _hop(answer, None)
    step["sandbox_ms"] = sum(a - b for a, b in zip(after, before, strict=True)) * 1000
    steps.append(step)
    return answer


def _hop(answer: requests.Response, sandbox: ServiceProcess | None) -> dict[str, Any]:
    request = answer.request
    served_by = "sandbox" if sandbox is not None else "app"
    return {
        "step": f"{request.method} {urlsplit(str(request.url)).path} → {answer.status_code}",
        "served_by": served_by,
        "ms": answer.elapsed.total_seconds() * 1000,
        "sandbox_ms": 0.0,
    }

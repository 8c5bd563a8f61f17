"""Load with wrk, read back as numbers; and bursts of concurrent requests from threads."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

WRK = shutil.which("wrk") or "/usr/bin/wrk"
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured; latencies in seconds."""

    connections: int
    requests: int
    seconds: float
    rps: float
    p50: float
    p99: float
    errors: int  # socket errors plus answers that were not 2xx or 3xx


def wrk(url: str, connections: int, seconds: float, cookie: str) -> WrkResult:
    """Run wrk against ``url`` with a signed-in cookie and parse its --latency report."""
    threads = min(2, connections)
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s", "-H", f"Cookie: {cookie}", url]
    output = subprocess.run(  # noqa: S603 - fixed argument list
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    return parse_wrk(output, connections)


def parse_wrk(output: str, connections: int) -> WrkResult:
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if done is None:
        raise ValueError(f"wrk printed no summary:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        connections=connections,
        requests=int(done.group(1)),
        seconds=float(done.group(2)) * UNITS[done.group(3)],
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50=_percentile(output, "50%"),
        p99=_percentile(output, "99%"),
        errors=errors + (int(bad.group(1)) if bad else 0),
    )


def _percentile(output: str, label: str) -> float:
    found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if found is None:
        raise ValueError(f"wrk printed no {label} latency:\n{output}")
    return float(found.group(1)) * UNITS[found.group(2)]


@dataclass(frozen=True)
class Answer:
    """One request of a burst: its status, where it was redirected, how long it took."""

    status: int
    location: str
    seconds: float


def burst(urls: list[str], cookie: str) -> list[Answer]:
    """Send one GET per URL, all released at the same moment from their own threads."""
    gate = threading.Barrier(len(urls))

    def one(url: str) -> Answer:
        gate.wait()
        return timed_get(url, cookie)

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(one, urls))


def timed_get(url: str, cookie: str) -> Answer:
    started = time.perf_counter()
    try:
        answer = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False, timeout=30)
    except requests.RequestException:
        return Answer(0, "", time.perf_counter() - started)
    return Answer(
        answer.status_code, answer.headers.get("Location", ""), time.perf_counter() - started
    )


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def repeat(call: Callable[[], float], times: int) -> list[float]:
    return [call() for _ in range(times)]

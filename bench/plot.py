"""The throughput and latency figure of RESULTS.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - the backend is chosen first

STYLE = {
    "app": ("the app", "tab:blue", "o"),
    "app_dpop": ("the app, DPoP-bound tokens", "tab:cyan", "o"),
    "baseline": ("baseline (same I/O, same template)", "tab:green", "s"),
    "floor": ("floor (same I/O, same rows, nothing else)", "tab:gray", "D"),
    "peer": ("peer (Authlib + Flask-Session)", "tab:red", "^"),
}


def draw(overhead: dict[str, Any], path: Path) -> None:
    """Plot requests/s and p99 latency against wrk connections, one line per app."""
    figure, (rps, p99) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for name, (label, colour, marker) in STYLE.items():
        runs = overhead[name]
        connections = sorted(int(c) for c in runs)
        rps.plot(
            connections,
            [runs[str(c)]["rps"] for c in connections],
            marker=marker,
            color=colour,
            label=label,
        )
        p99.plot(
            connections,
            [runs[str(c)]["p99_ms"] for c in connections],
            marker=marker,
            color=colour,
            label=label,
        )
    rps.set(
        title="Throughput of the signed-in page",
        xlabel="connections (wrk)",
        ylabel="requests/s",
        ylim=(0, None),
    )
    p99.set(title="p99 latency", xlabel="connections (wrk)", ylabel="ms", ylim=(0, None))
    for axes in (rps, p99):
        axes.set_xticks(connections)
        axes.grid(alpha=0.3)
    rps.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)

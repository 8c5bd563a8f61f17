"""CPU time of process trees and of the whole machine, read from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = 1 / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants that are alive now."""
    found = [pid]
    for child in _children(pid):
        found += tree(child)
    return found


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Return user+sys CPU seconds of each pid that still exists."""
    seconds = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds[pid] = (int(fields[11]) + int(fields[12])) * TICK  # utime, stime
    return seconds


def machine_busy_seconds() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of all cores since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) * TICK, total * TICK


@dataclass
class CpuMeter:
    """CPU used by named groups of process trees between ``start()`` and ``stop()``."""

    groups: dict[str, list[int]]  # name -> root pids (each root counts with its descendants)

    def start(self) -> CpuMeter:
        self._pids = {
            name: [p for r in roots for p in tree(r)] for name, roots in self.groups.items()
        }
        self._before = {name: cpu_seconds(pids) for name, pids in self._pids.items()}
        self._machine = machine_busy_seconds()
        return self

    def stop(self) -> dict[str, float]:
        """Return CPU seconds per group, plus ``machine`` (all cores, busy time)."""
        used = {}
        self.per_pid: dict[str, dict[int, float]] = {}
        for name, pids in self._pids.items():
            after = cpu_seconds(pids)
            before = self._before[name]
            self.per_pid[name] = {p: after[p] - before[p] for p in after if p in before}
            used[name] = sum(self.per_pid[name].values())
        busy, _ = machine_busy_seconds()
        used["machine"] = busy - self._machine[0]
        return used

"""What machine and tools a run was measured on."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any


def describe(command: str, now: datetime, smoke: bool) -> dict[str, Any]:
    """Describe this machine and run."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "smoke": smoke,
        "cpu": f"{os.cpu_count()} × {model}",
        "memory_gib": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "tools": {name: _version(name) for name in ("redis-server", "nginx", "wrk")},
    }


def _version(tool: str) -> str:
    path = shutil.which(tool) or f"/usr/sbin/{tool}"
    flag = "-v" if tool != "wrk" else "--version"
    done = subprocess.run([path, flag], capture_output=True, text=True, check=False)  # noqa: S603
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else "?"

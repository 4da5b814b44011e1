"""The machine a run was measured on: CPU model, cores, Python, OS."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what `platform` knows)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("model name", "Hardware", "Model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe() -> dict[str, Any]:
    """What to name in the output."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        # Other work on the machine shows up in the tails (p99): say how busy it was.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def one_line(info: dict[str, Any]) -> str:
    """`describe()` as one line for the table's heading."""
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['arch']}, Python {info['python']} "
        f"(load average {info['load_average_1min']} at the start)"
    )

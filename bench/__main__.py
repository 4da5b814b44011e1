"""`python -m bench`: every performance figure of edge_voice in one run, as a table and JSON.

    python -m bench                 # a few minutes; JSON in bench/results/latest.json
    python -m bench --quick         # a smoke run in seconds (CI): same figures, few samples
    python -m bench --json FILE --only idle_cpu,latency

Benchmarks are not tests: nothing here fails on a figure. What each figure measures is in
its module's docstring and in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import audio_cpu, cost_growth, idle_cpu, latency, machine, memory, mqtt_latency

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True)
class Measure:
    """One module's figures, with its sample size for a full and a quick run."""

    name: str
    run: Callable[[float], Any]
    full: float
    quick: float


async def _cost(turns: float) -> dict[str, Any]:
    series, typical = await cost_growth.run(int(turns))
    return cost_growth.figures(series, typical, int(turns))


MEASURES = (
    Measure("idle_cpu", idle_cpu.measure, full=60, quick=4),
    Measure("latency", latency.measure, full=12, quick=2),
    Measure("mqtt", mqtt_latency.measure, full=500, quick=20),
    Measure("memory", lambda n: memory.measure(int(n)), full=100, quick=3),
    Measure("audio_cpu", audio_cpu.measure, full=60, quick=2),
    Measure("cost", _cost, full=200, quick=3),
)

#: (figure, target, how the target reads): shown next to the figures in the table.
TARGETS: dict[str, tuple[float, str]] = {
    "idle_cpu_openwakeword_ratio": (1.1, "≤ 1.1×"),
    "idle_cpu_microwakeword_ratio": (1.1, "≤ 1.1×"),
    "frame_path_p99_ms": (2.0, "≤ 2 ms"),
    "reply_path_p99_ms": (2.0, "≤ 2 ms"),
    "speech_stopped_to_audio_p95_ms": (20.0, "≤ 20 ms"),
    "wake_to_ready_warm_p50_ms": (50.0, "≤ 50 ms"),
    "mqtt_event_p99_ms": (5.0, "≤ 5 ms"),
    "rss_after_100_conversations_mb": (120.0, "≤ 120 MB"),
    "rss_growth_mb": (5.0, "flat (≤ 5 MB)"),
    "typical_interaction_usd_gpt-realtime": (0.008, "≤ $0.008"),
}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, dict):
        return f"{len(value)} entries (JSON)"
    return str(value)


def table(figures: dict[str, Any]) -> str:
    """The figures, one a line, with their target and whether it is met."""
    lines = [f"{'figure':44} {'value':>14}  target"]
    for key, value in figures.items():
        if key == "machine":
            continue
        target = TARGETS.get(key)
        mark = ""
        if target is not None and isinstance(value, int | float):
            mark = f"{target[1]:14} {'met' if value <= target[0] else 'MISSED'}"
        lines.append(f"{key:44} {_cell(value):>14}  {mark}")
    return "\n".join(lines)


async def run(names: list[str], quick: bool) -> dict[str, Any]:
    """Run the chosen measures in order; the figures, machine first."""
    figures: dict[str, Any] = {"machine": machine.describe(), "quick": quick}
    for m in MEASURES:
        if m.name not in names:
            continue
        started = time.monotonic()
        result = m.run(m.quick if quick else m.full)
        figures.update(await result if asyncio.iscoroutine(result) else result)
        figures[f"{m.name}_bench_s"] = round(time.monotonic() - started, 1)
    return figures


def main() -> None:
    """Parse the options, run, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: seconds, few samples")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    parser.add_argument(
        "--only", default=",".join(m.name for m in MEASURES), help="comma-separated measures"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the service's start-up notes are not figures
    figures = asyncio.run(run(args.only.split(","), args.quick))
    print(machine.one_line(figures["machine"]))
    print(table(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()

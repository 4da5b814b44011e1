"""Resident memory of the service after N simulated conversations, and its growth.

The service runs in a child process of its own (`python -m bench.memory URL PORT N`) with only
the bench's probes; the simulator is another process (`edge-voice sim --pacing 0`), so neither
the simulator nor the rest of the bench is in the figure (the probes' stamps are dropped after
each conversation). Conversations run as fast as the wake word scorer allows: the source is not
paced. Besides RSS: RSS after glibc's `malloc_trim` (what the allocator keeps after frees is
given back) and the live heap (malloc in use plus CPython's objects).
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.broker import Mosquitto
from bench.device import REQUEST_WAV, running_device, wav_frames
from bench.stats import malloc_in_use_mb, malloc_trim, proc_rss_mb, python_heap_mb

SCENARIO = 'name: bench\nloop: true\nturns:\n  - {user: "What time is it?", say: "Ten past ten."}\n'


def _reading() -> dict[str, float | None]:
    rss = proc_rss_mb()
    malloc_trim()
    malloc = malloc_in_use_mb()
    return {
        "rss": rss,
        "trimmed": proc_rss_mb(),
        "live": None if malloc is None else malloc + python_heap_mb(),
    }


async def child(url: str, port: int, count: int) -> None:
    """Run `count` conversations; print the memory (MB) after 1, each tenth and the last."""
    speech = await wav_frames(REQUEST_WAV)
    silence = [b"\0" * len(speech[0])] * 12
    readings: dict[int, dict[str, float | None]] = {}
    tenth = max(1, count // 10)
    async with running_device(port, url, pace_s=0.0) as device:
        gc.collect()
        readings[0] = _reading()
        for n in range(1, count + 1):
            await device.converse(speech + silence, cold=False)
            device.forget()  # the probes' stamps are the bench's, not the service's
            if n == 1 or n % tenth == 0 or n == count:
                gc.collect()
                readings[n] = _reading()
    print(json.dumps(readings), flush=True)


async def measure(count: int) -> dict[str, Any]:
    """Start the simulator and the child; RSS after the first tenth and after all."""
    with tempfile.TemporaryDirectory() as tmp, Mosquitto() as broker:
        scenario = Path(tmp) / "bench.yaml"
        scenario.write_text(SCENARIO)
        sim = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "edge_voice.sim", "--port", "0", "--pacing", "0",
            "--scenario", str(scenario), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            assert sim.stdout is not None
            line = (await asyncio.wait_for(sim.stdout.readline(), 30)).decode()
            found = re.search(r"ws://\S+", line)
            assert found, line
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.memory", found.group(0), str(broker.port), str(count),
                stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[1],
            )  # fmt: skip
            out, _ = await asyncio.wait_for(proc.communicate(), 60 + 5 * count)
        finally:
            sim.terminate()
            await sim.wait()
    readings = {int(k): v for k, v in json.loads(out.decode().strip().splitlines()[-1]).items()}
    tenth = max(1, count // 10)
    first, last = readings[tenth], readings[count]
    live = None if last["live"] is None else last["live"] - first["live"]
    return {
        "rss_idle_mb": readings[0]["rss"],
        f"rss_after_{count}_conversations_mb": last["rss"],
        "rss_growth_mb": last["rss"] - first["rss"],
        "rss_trimmed_growth_mb": last["trimmed"] - first["trimmed"],
        "live_heap_growth_mb": live,
        "rss_growth_from_conversation": tenth,
        "conversations": count,
        "by_conversation": readings,
    }


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.ERROR)
    asyncio.run(child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))

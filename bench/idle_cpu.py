"""Idle listening: `edge-voice run` vs the bare wake-word engine on the same audio, CPU per second.

Both run as their own process on one WAV of speech without the wake word, at real-time pace
(the WAV source's default; `--fast` is not given). `edge-voice run` is connected to a local
Mosquitto. CPU is read from /proc over the same window of each: from 1 s after the process is
listening (edge_voice: its retained `idle` state on MQTT; the engine: its `ready` line) to
0.5 s before the audio ends, so loading and start-up are not counted. Start-up time to
listening comes from the same run: process start → retained `idle` state received.

One row per engine (`ENGINES`): each with its best built-in model, the service and the bare
engine on the same model.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from bench.broker import Mosquitto
from bench.device import API_KEY, REQUEST_WAV
from bench.stats import proc_cpu_s, proc_rss_mb

SAMPLE_S = 0.25


@dataclass(frozen=True)
class Engine:
    """A wake-word engine: how to run it bare, and the `wakeword` config that selects it."""

    name: str
    #: The module that runs the engine alone: `python -m <bare> FILE.wav MODEL`.
    bare: str
    model: str
    #: The service's `wakeword` section (empty: the default, openWakeWord's hey_jarvis).
    wakeword: dict[str, Any] = field(default_factory=dict)


#: Each engine with the built-in model it does best (measured recall, issue 12).
ENGINES = (
    Engine("openwakeword", "bench.bare_openwakeword", "hey_jarvis"),
    Engine(
        "microwakeword",
        "bench.bare_microwakeword",
        "okay_nabu",
        {"models": ["okay_nabu"], "words": {"okay_nabu": {"engine": "microwakeword"}}},
    ),
)


def non_wake_wav(path: Path, seconds: float) -> Path:
    """`seconds` of speech without the wake word ("what time is it?" and 1 s pauses)."""
    with wave.open(str(REQUEST_WAV), "rb") as src:
        speech = src.readframes(src.getnframes())
        rate = src.getframerate()
    pause = bytes(2 * rate)
    block = speech + pause
    total = int(seconds * rate) * 2
    pcm = (block * (total // len(block) + 1))[:total]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return path


@dataclass
class CpuWindow:
    """CPU samples of one process, and when it started listening."""

    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)
    listening_at: float | None = None

    def sample(self) -> None:
        """One (time, cpu seconds) reading; nothing once the process is gone."""
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, IndexError):
            self.samples.append((time.monotonic(), proc_cpu_s(self.pid)))

    def cpu_fraction(self, seconds: float) -> float:
        """CPU seconds per wall second between listening + 1 s and the audio's end - 0.5 s."""
        assert self.listening_at is not None, "the process never said it was listening"
        start, end = self.listening_at + 1.0, self.listening_at + seconds - 0.5
        inside = [(t, c) for t, c in self.samples if start <= t <= end]
        if len(inside) < 2:
            return float("nan")
        (t0, c0), (t1, c1) = inside[0], inside[-1]
        return (c1 - c0) / (t1 - t0)

    def total_cpu_s(self) -> float:
        """CPU seconds over the whole life of the process (start-up included)."""
        return self.samples[-1][1] if self.samples else float("nan")


async def _sample_until_exit(proc: asyncio.subprocess.Process, window: CpuWindow) -> None:
    while proc.returncode is None:
        window.sample()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), SAMPLE_S)


async def bare_engine(engine: Engine, wav: Path, seconds: float) -> dict[str, float]:
    """CPU fraction of the bare engine on `wav`, and its CPU seconds start-up included."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", engine.bare, str(wav), engine.model,
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    window = CpuWindow(proc.pid)
    assert proc.stdout is not None
    sampler = asyncio.create_task(_sample_until_exit(proc, window))
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.strip() == b"ready", line
    window.listening_at = time.monotonic()
    await sampler
    return {"cpu": window.cpu_fraction(seconds), "total_cpu_s": window.total_cpu_s()}


def _service_config(directory: Path, port: int, engine: Engine) -> Path:
    config = directory / "config.yaml"
    config.write_text(
        f"device_id: bench_{engine.name}\nlog_level: ERROR\n"
        f"state_dir: {directory / 'state'}\n"
        f"mqtt: {{host: 127.0.0.1, port: {port}, base_topic: edge_voice_bench}}\n"
        # Idle never connects; an address nothing listens on proves it.
        "openai: {base_url: 'ws://127.0.0.1:9/v1/realtime'}\n"
        + (f"wakeword: {engine.wakeword}\n" if engine.wakeword else "")
    )
    return config


async def _wait_idle(port: int, ready: asyncio.Future[float]) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe("edge_voice_bench/+/state")
        async for message in client.messages:
            # A retained state is an earlier run's (the broker outlives each engine's run).
            if not message.retain and b'"idle"' in bytes(message.payload):  # type: ignore[arg-type]
                ready.set_result(time.monotonic())
                return


async def service(engine: Engine, wav: Path, seconds: float, broker: Mosquitto) -> dict[str, float]:
    """CPU fraction, start-up time and RSS of `edge-voice run` on `wav`."""
    with tempfile.TemporaryDirectory(prefix="edge_voice_bench_idle_") as tmp:
        config = _service_config(Path(tmp), broker.port, engine)
        ready: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        watcher = asyncio.create_task(_wait_idle(broker.port, ready))
        await asyncio.sleep(0.3)  # the watcher subscribes before the service starts
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "edge_voice", "run", "--config", str(config),
            "--source", f"wav:{wav}", "--sink", "null", "--exit-on-eof", "-qq",
            env={**os.environ, "OPENAI_API_KEY": API_KEY},
        )  # fmt: skip
        window = CpuWindow(proc.pid)
        sampler = asyncio.create_task(_sample_until_exit(proc, window))
        window.listening_at = await asyncio.wait_for(ready, 60)
        rss = proc_rss_mb(proc.pid)
        await sampler
        watcher.cancel()
        assert proc.returncode == 0, f"edge-voice run exited with {proc.returncode}"
    return {
        "cpu": window.cpu_fraction(seconds),
        "startup_s": window.listening_at - started,
        "rss_mb": rss,
        "total_cpu_s": window.total_cpu_s(),
    }


async def measure(seconds: float) -> dict[str, Any]:
    """Per engine: the service's and the bare engine's CPU, their ratio; start-up time."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, Mosquitto() as broker:
        wav = non_wake_wav(Path(tmp) / "non_wake.wav", seconds)
        for engine in ENGINES:
            bare = await bare_engine(engine, wav, seconds)
            run = await service(engine, wav, seconds, broker)
            key = f"idle_cpu_{engine.name}"
            figures[f"{key}_service_pct"] = 100 * run["cpu"]
            figures[f"{key}_bare_pct"] = 100 * bare["cpu"]
            # What edge_voice adds, in % of one core: the figure that matters for an engine
            # as light as microWakeWord, whose ratio a fraction of a percent makes large.
            figures[f"{key}_overhead_pct"] = 100 * (run["cpu"] - bare["cpu"])
            figures[f"{key}_ratio"] = run["cpu"] / bare["cpu"] if bare["cpu"] else math.inf
            # The whole process, loading included: what a measure of the full run shows.
            figures[f"{key}_ratio_with_startup"] = run["total_cpu_s"] / bare["total_cpu_s"]
            figures.setdefault("startup_to_listening_s", run["startup_s"])
            figures.setdefault("idle_rss_mb", run["rss_mb"])
    return figures

"""The real `edge-voice` CLI as a subprocess, as a user starts it, and the device config and
demo run the CLI tests share."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from tests.support.assistant_rig import demo_wav
from tests.support.broker import BrokerAddress

#: Any non-empty key: the simulator accepts it.
TEST_KEY = "sk-test-e2e-0001"
#: The in-process simulator's calendar (tests/conftest.py).
SIM_TODAY = "2026-05-01"
#: The bundled utterance the demo runs: "hey jarvis, turn on the kitchen light".
DEMO_UTTERANCE = "hey_jarvis_kitchen_light.wav"


async def edge_voice(*args: str, key: str | None = TEST_KEY) -> asyncio.subprocess.Process:
    """`python -m edge_voice ARGS`, with OPENAI_API_KEY set to `key` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edge_voice",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@contextlib.asynccontextmanager
async def sim_process(*args: str) -> AsyncIterator[str]:
    """`edge-voice sim ARGS` (not paced) on a free port, as a user starts it; its URL."""
    proc = await edge_voice("sim", "--port", "0", "--pacing", "0", *args, key=None)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        assert line.startswith("simulator listening on "), line
        yield line.rsplit(" ", 1)[1]
    finally:
        proc.terminate()
        await proc.wait()


def write_device_config(
    tmp: Path, broker: BrokerAddress, sim_url: str, base_topic: str, **sections: Any
) -> Path:
    """`tmp/config.yaml` of device `kitchen` on `broker` and the simulator at `sim_url`, its
    state in `tmp/state`; `sections` are merged in (a `conversation` replaces the default)."""
    config = tmp / "config.yaml"
    data = {
        "device_id": "kitchen",
        "state_dir": str(tmp / "state"),
        "openai": {"base_url": sim_url},
        "mqtt": {"host": broker.host, "port": broker.port, "base_topic": base_topic},
        "conversation": {"follow_up_s": 1},
        **sections,
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def demo_run(
    config: Path, sink: str = "null", *, today: str | None = SIM_TODAY, source: str | None = None
) -> tuple[str, ...]:
    """The `run` arguments of the demo conversation: the bundled utterance (or `source`) into
    `sink`, on the calendar of `today` (None: the real date)."""
    source = source or f"wav:{demo_wav(DEMO_UTTERANCE)}"
    calendar = ("--today", today) if today is not None else ()
    return ("run", *calendar, "--config", str(config), "--source", source, "--sink", sink)


class Exited(NamedTuple):
    """How a CLI run ended: its exit code and what it printed."""

    code: int | None
    out: str
    err: str


async def run_to_exit(*args: str, key: str | None = TEST_KEY, within: float = 60) -> Exited:
    """Run `edge-voice ARGS --fast --exit-on-eof` (not paced; it exits when the audio has ended
    and its conversation completed) to its exit."""
    proc = await edge_voice(*args, "--fast", "--exit-on-eof", key=key)
    out, err = await asyncio.wait_for(proc.communicate(), within)
    return Exited(proc.returncode, out.decode(), err.decode())

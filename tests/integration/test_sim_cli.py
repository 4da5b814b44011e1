"""The simulator as a process: ready line, a session over the socket, clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from edge_voice.models.catalog import default_catalog
from edge_voice.sim import RealtimeSimulator, SimConfig
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    "command", [["edge_voice.sim"], ["edge_voice", "sim"]], ids=["module", "edge-voice-sim"]
)
async def test_cli_serves_a_scenario_and_stops_on_sigterm(
    tmp_path: Path, command: list[str]
) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text("turns: [{user: hello, say: Hello from the file.}]\n", "utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *command,
        "--port",
        "0",
        "--pacing",
        "0",
        "--scenario",
        str(scenario),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        assert line.startswith("simulator listening on ws://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        assert url.endswith("/v1/realtime")
        async with await SimClient.connect(url) as c:
            text = {"type": "input_text", "text": "hello"}
            item = {"type": "message", "role": "user", "content": [text]}
            await c.send({"type": "conversation.item.create", "item": item})
            await c.send({"type": "response.create"})
            done = await c.wait_for("response.output_audio_transcript.done", within=10)
            assert done["transcript"] == "Hello from the file."
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_rejects_a_bad_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("turns: []\n", "utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edge_voice.sim",
        "--scenario",
        str(bad),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert b"bad.yaml" in err


async def test_a_catalog_passed_in_adds_models() -> None:
    catalog = default_catalog().with_overrides({"gpt-realtime-9": {"like": "gpt-realtime"}})
    async with (
        RealtimeSimulator(SimConfig(pacing=0), catalog=catalog) as sim,
        await SimClient.connect(sim.url, "gpt-realtime-9") as c,
    ):
        assert (await c.wait_for("session.created"))["session"]["model"] == "gpt-realtime-9"

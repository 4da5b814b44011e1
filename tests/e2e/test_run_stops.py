"""`edge-voice run` from start to stop: a WAV that ends, a signal mid-conversation, a dead stdin."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge_voice.mqtt.topics import Topics
from tests.support.assistant_rig import LIGHT_TOOL, demo_wav
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, Received, observer, unique_base

pytestmark = pytest.mark.timeout(90)

KEY = "sk-test-lifecycle-0001"


def write_config(tmp_path: Path, sim_url: str, broker: BrokerAddress, base_topic: str) -> Path:
    """A config for the sim and the test's broker, the light tool declared."""
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "device_id": "kitchen",
                "state_dir": str(tmp_path / "state"),
                "openai": {"base_url": sim_url},
                "mqtt": {"host": broker.host, "port": broker.port, "base_topic": base_topic},
                "conversation": {"follow_up_s": 1, "function_deadline_ms": 30000},
                "tools": [LIGHT_TOOL],
            }
        )
    )
    return config


async def start_run(
    config: Path, *extra: str, stdin: int | None = None
) -> asyncio.subprocess.Process:
    """The real CLI as a user starts it, on the demo's WAV, replies to a WAV."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edge_voice",
        "run",
        "--today",  # the in-process simulator's calendar (tests/conftest.py)
        "2026-05-01",
        "--config",
        str(config),
        "--sink",
        f"wav:{config.parent / 'reply.wav'}",
        *extra,
        env={**os.environ, "OPENAI_API_KEY": KEY},
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop(proc: asyncio.subprocess.Process, sig: int) -> tuple[int, str]:
    """Send `sig` (unless it ended by itself); the exit code and stderr."""
    if proc.returncode is None:
        proc.send_signal(sig)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@pytest.fixture
async def device(
    sim: Any, mqtt_broker: BrokerAddress, tmp_path: Path
) -> AsyncIterator[tuple[Observer, str, Path]]:
    base_topic = unique_base()
    base = f"{base_topic}/kitchen"
    config = write_config(tmp_path, sim.url, mqtt_broker, base_topic)
    async with observer(mqtt_broker, f"{base}/#") as obs:
        yield obs, base, config


def statuses(obs: Observer, base: str) -> list[str]:
    return [m.json()["status"] for m in obs.on(f"{base}/state")]


async def answer_call(obs: Observer, base: str) -> Received:
    """The flow's part: answer the function call the device announces."""
    call = await obs.expect(f"{base}/event/function_call", within=30)
    result = {"call_id": call.json()["call_id"], "output": {"ok": True}}
    await obs.publish(f"{base}/function_call/result", json.dumps(result))
    return call


async def test_a_wav_that_ends_finishes_the_conversation_and_the_service_keeps_running(
    device: tuple[Observer, str, Path], mqtt_broker: BrokerAddress
) -> None:
    broker = mqtt_broker
    obs, base, config = device
    wav = demo_wav("hey_jarvis_kitchen_light.wav")
    proc = await start_run(config, "--source", f"wav:{wav}", "--fast")
    try:
        await answer_call(obs, base)
        spoken = await obs.expect(
            f"{base}/event/transcript",
            lambda m: m.json()["text"] == "The kitchen light is on.",
            within=30,
        )
        idle = await obs.status(_Device(base), "idle", within=30, after=spoken)
        await obs.barrier(_Device(base))  # the device still answers commands: MQTT is up
        # The conversation's end republishes the metrics: its cost is the last conversation's.
        costs = [m.json()["cost_usd"] for m in obs.on(f"{base}/event/response")]
        metrics = obs.on(f"{base}/metrics")[-1].json()
        assert metrics["ts"] >= idle["ts"] and metrics["conversations"] == 1
        assert metrics["cost_last_usd"] == pytest.approx(sum(costs)) and len(costs) == 2
        assert proc.returncode is None, "the service stopped when its source ended"
        assert [m.payload for m in obs.on(f"{base}/availability")][-1] == b"online"
    finally:
        code, err = await stop(proc, signal.SIGTERM)
    assert code == 0, err[-2000:]
    ready = [line for line in err.splitlines() if "ready: listening" in line]
    assert ready == [
        f"INFO edge_voice: ready: listening for hey_jarvis on wav:{wav} (16000 Hz, 1 ch, 16 bit), "
        f"MQTT mqtt://{broker.host}:{broker.port} (plain), model gpt-realtime (auto)"
    ], err
    assert statuses(obs, base)[-1] == "idle"
    assert [m.payload for m in obs.on(f"{base}/availability")][-1] == b"offline"
    assert "Traceback" not in err and KEY not in err


async def test_sigterm_during_a_conversation_leaves_a_final_idle_state_before_offline(
    device: tuple[Observer, str, Path],
) -> None:
    obs, base, config = device
    wav = demo_wav("hey_jarvis_kitchen_light.wav")
    proc = await start_run(config, "--source", f"wav:{wav}", "--fast")
    try:
        # The flow never answers: the function call stays pending, the state `responding`.
        await obs.expect(f"{base}/event/function_call", within=30)
        await obs.status(_Device(base), "responding", within=30)
    finally:
        code, err = await stop(proc, signal.SIGTERM)
    assert code == 0, err[-2000:]
    await obs.expect(f"{base}/availability", lambda m: m.payload == b"offline")
    order = [
        (m.topic.rsplit("/", 1)[-1], m.payload)
        for m in obs.messages
        if m.topic in (f"{base}/state", f"{base}/availability")
    ]
    last_state = next(p for t, p in reversed(order) if t == "state")
    assert json.loads(last_state)["status"] == "idle"
    assert order[-1] == ("availability", b"offline")
    shutdown = [line for line in err.splitlines() if "shutting down" in line]
    assert len(shutdown) == 1 and shutdown[0].endswith("SIGTERM: shutting down"), err
    assert "Traceback" not in err and "never retrieved" not in err


async def test_stdin_at_eof_is_one_clear_line_and_exit_2(
    device: tuple[Observer, str, Path],
) -> None:
    _, _, config = device
    proc = await start_run(config, "--source", "stdin", stdin=asyncio.subprocess.DEVNULL)
    _, err_bytes = await asyncio.wait_for(proc.communicate(), 30)
    err = err_bytes.decode()
    assert proc.returncode == 2, err
    assert "stdin gave no audio" in err
    assert "Traceback" not in err


class _Device:
    """The device's topics, for the observer's helpers."""

    def __init__(self, base: str) -> None:
        base_topic, device_id = base.split("/")
        self.topics = Topics(base_topic=base_topic, device_id=device_id)


async def read_until(stream: asyncio.StreamReader, *needles: str) -> str:
    """Read lines until one contains every needle; that line."""
    while line := (await stream.readline()).decode():
        if all(n in line for n in needles):
            return line
    raise AssertionError(f"the output ended without {needles}")


@pytest.mark.parametrize("broker", ["mosquitto", "embedded"])
async def test_ctrl_c_in_the_demo_stops_cleanly_with_130(
    mqtt_broker: BrokerAddress, tmp_path: Path, broker: str
) -> None:
    if broker == "embedded":
        pytest.importorskip("amqtt")  # the demo extra; where the flow lost its broker first
        host, port = "127.0.0.1", free_port()
    else:
        host, port = mqtt_broker.host, mqtt_broker.port
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edge_voice",
        "demo",
        "--mqtt-host",
        host,
        "--mqtt-port",
        str(port),
        "--out",
        str(tmp_path / "reply.wav"),
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        await asyncio.wait_for(read_until(proc.stdout, "/state", '"listening"'), 30)
    finally:
        code, err = await stop(proc, signal.SIGINT)
    assert code == 130, err[-2000:]
    assert "Traceback" not in err and "never retrieved" not in err, err[-2000:]
    assert "interrupted: the demo stopped" in err


def free_port() -> int:
    """A loopback port nobody listens on (the demo then starts its embedded broker)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_demo(broker: BrokerAddress, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    """The demo with an OpenAI key set, as a user with a key runs it: exit code, out, err."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edge_voice",
        "demo",
        "--fast",
        "--mqtt-host",
        broker.host,
        "--mqtt-port",
        str(broker.port),
        "--out",
        str(tmp_path / "reply.wav"),
        *extra,
        env={**os.environ, "OPENAI_API_KEY": KEY},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_demo_with_a_key_and_no_network_says_so_and_gives_up(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    url = f"ws://127.0.0.1:{free_port()}/v1/realtime"  # nobody listens: like no network
    code, out, err = await run_demo(mqtt_broker, tmp_path, "--realtime-url", url)
    assert code == 1, err[-2000:]
    assert f"OPENAI_API_KEY is set: using the OpenAI Realtime API at {url}" in out
    assert f"error: no answer from the Realtime API at {url}: cannot open" in err
    assert "edge-voice demo --sim" in err
    assert "Traceback" not in err and KEY not in out + err


async def test_the_demo_with_a_key_and_sim_uses_the_simulator(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    code, out, err = await run_demo(mqtt_broker, tmp_path, "--sim", "-q")
    assert code == 0, err[-2000:]
    assert "--sim: using the bundled Realtime simulator at ws://127.0.0.1:" in out
    assert "assistant: The kitchen light is on." in out

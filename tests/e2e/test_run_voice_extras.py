"""`edge-voice run` as a user runs it: an announcement published on `<base>/say` is spoken into
the sink (a WAV file), priced on `event/response`, and the service stays up for more; the
earcons frame a conversation in the sink."""

from __future__ import annotations

import asyncio
import json
import signal
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import numpy as np
import pytest

from edge_voice.audio.sounds import BUNDLED, load_sound
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.cli_process import demo_run, edge_voice, run_to_exit, write_device_config
from tests.support.mqtt_observer import unique_base

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


#: A short follow-up window: each run ends soon after its answer.
QUICK: dict[str, Any] = {"conversation": {"follow_up_s": 0.5}}


def silence(path: Path, seconds: float = 0.5) -> Path:
    """A quiet room for the microphone: 16 kHz PCM16 zeros."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(np.zeros(int(16000 * seconds), dtype="<i2").tobytes())
    return path


async def test_say_is_spoken_into_the_sink_by_the_running_service(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base_topic = unique_base()
    base = f"{base_topic}/kitchen"
    config = write_device_config(tmp_path, mqtt_broker, sim.url, base_topic, **QUICK)
    reply = tmp_path / "reply.wav"
    async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as client:
        await client.subscribe(f"{base}/#", qos=1)
        room = f"wav:{silence(tmp_path / 'room.wav')}"
        proc = await edge_voice(*demo_run(config, f"wav:{reply}", source=room), "--fast")
        try:
            response = await asyncio.wait_for(_announce(client, base), 30)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert response["kind"] == "announcement" and response["cost_usd"] > 0
    with wave.open(str(reply), "rb") as wav:
        played_ms = wav.getnframes() * 1000 / wav.getframerate()
    assert played_ms > 300  # the announcement's audio, as the simulator streamed it


async def _announce(client: aiomqtt.Client, base: str) -> dict[str, Any]:
    """Once the device listens to commands: say something; the `event/response` of it."""
    said = False
    async for message in client.messages:
        topic, payload = str(message.topic), bytes(message.payload or b"")  # type: ignore[arg-type]
        # The state goes out after the device subscribed (`online` comes before that).
        if topic == f"{base}/state" and not said:
            await client.publish(f"{base}/say", "The washing machine is done.", qos=1)
            said = True
        elif topic == f"{base}/response":
            assert json.loads(payload)["status"] == "ok", payload
        elif topic == f"{base}/event/response":
            data: dict[str, Any] = json.loads(payload)
            return data
    raise AssertionError("the broker connection ended")


async def test_earcons_frame_a_conversation_in_the_sink(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    audio = {"earcons": {"enabled": True}}
    config = write_device_config(
        tmp_path, mqtt_broker, sim.url, unique_base(), audio=audio, **QUICK
    )
    reply = tmp_path / "reply.wav"
    done = await run_to_exit(*demo_run(config, f"wav:{reply}"))
    assert done.code == 0, done.err[-2000:]
    with wave.open(str(reply), "rb") as wav:
        played = wav.readframes(wav.getnframes())
    wake, listen_end = (load_sound(BUNDLED / f"{n}.wav") for n in ("wake", "listen_end"))
    assert played.startswith(wake + listen_end)  # then the answer
    assert len(played) > len(wake + listen_end) + 24000


async def test_the_offline_notice_when_no_model_can_be_reached(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    sim.config.refuse_models.update(["gpt-realtime", "gpt-4o-realtime-preview"])
    config = write_device_config(tmp_path, mqtt_broker, sim.url, unique_base(), **QUICK)
    reply = tmp_path / "reply.wav"
    done = await run_to_exit(*demo_run(config, f"wav:{reply}"))
    assert done.code == 1, done.err[-2000:]  # every connection attempt failed
    assert "all_models_failed" in done.err
    assert [c.model for c in sim.connections] == ["gpt-realtime", "gpt-4o-realtime-preview"]
    with wave.open(str(reply), "rb") as wav:
        played = wav.readframes(wav.getnframes())
    assert played == load_sound(BUNDLED / "offline.wav")  # said, instead of silence


async def test_memory_is_kept_by_one_run_and_given_to_the_next(
    sim: RealtimeSimulator, mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    memory = {"enabled": True}
    config = write_device_config(
        tmp_path, mqtt_broker, sim.url, unique_base(), memory=memory, **QUICK
    )
    summaries = []
    for _ in range(2):  # the same device, run twice
        done = await run_to_exit(*demo_run(config))
        assert done.code == 0, done.err[-2000:]
        # Kept although the run ended right after the conversation.
        summaries.append(json.loads((tmp_path / "state" / "memory.json").read_text())["summary"])
    assert "I can't control the lights from here." in summaries[0]
    updates = [e["session"] for _, e in sim.received if e.get("type") == "session.update"]
    assert len(updates) == 2  # one session per run
    assert "remember" not in updates[0]["instructions"]
    assert summaries[0] in updates[1]["instructions"]  # the second run was told

"""A device for the MQTT tests: the real service (`build_service`) on the simulator and a broker.

Everything a user sees comes from the real parts: the Assistant with its real wake word
detector, ModelMigration and RealtimeSession against the simulator over real sockets, the
ConfigStore and the MqttBridge on a real Mosquitto. The test plays WAV speech into the
device's microphone and watches the broker as Home Assistant or a Node-RED flow would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import numpy as np
import pytest
from pydantic import SecretStr

from bench.device import Microphone as QueuedMicrophone
from edge_voice.audio.sinks import parse_sink
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigChange, ConfigStore
from edge_voice.conversation.assistant import Assistant
from edge_voice.events import EventBus
from edge_voice.mqtt import connection
from edge_voice.mqtt.bridge import BridgeOptions, MqttBridge
from edge_voice.mqtt.connection import ReconnectPolicy
from edge_voice.mqtt.topics import Topics
from edge_voice.service import Service, build_service
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import LIGHT_TOOL, demo_wav, frames_of
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import TIMEOUT, Observer, unique_base

API_KEY = "sk-test-device-0001"
#: Where a device without a simulator would look for the Realtime API: nothing listens there.
NO_REALTIME = "ws://127.0.0.1:9/v1/realtime"
#: Speech without the wake word (for conversation/start); the simulator's first turn answers it.
REQUEST = demo_wav("follow_up_time.wav")
#: "Hey Jarvis, turn on the kitchen light.": the wake word, then the request.
WAKE_REQUEST = demo_wav("hey_jarvis_kitchen_light.wav")
FAST = BridgeOptions(
    reconnect=ReconnectPolicy(initial_s=0.05, max_s=0.4),
    ha_birth_delay_s=0.0,
    sync_timeout_s=3.0,
    publish_timeout_s=3.0,
)


def make_config(
    broker: BrokerAddress,
    state_dir: Path,
    *,
    base: str,
    sim: RealtimeSimulator | None = None,
    device_id: str = "kitchen",
    **extra: Any,
) -> EdgeVoiceConfig:
    """A device config on `broker` and `sim`; `extra` sections are merged in."""
    mqtt = {"host": broker.host, "port": broker.port, "base_topic": base, **extra.pop("mqtt", {})}
    # A discovery prefix per test too: the stale-entity scan must not see other tests' entities.
    mqtt.setdefault("discovery_prefix", f"{base}_ha")
    mqtt.setdefault("ha_status_topic", f"{base}_ha/status")
    openai = {"base_url": sim.url if sim else NO_REALTIME, **extra.pop("openai", {})}
    # A short follow-up window: a conversation is back to idle soon after its answer.
    conversation = {"follow_up_s": 0.5, **extra.pop("conversation", {})}
    data = {
        "device_id": device_id,
        "state_dir": str(state_dir),
        "mqtt": mqtt,
        "openai": openai,
        "conversation": conversation,
        **extra,
    }
    return EdgeVoiceConfig.model_validate(data)


def scaled(frame: bytes, gain: float) -> bytes:
    """A PCM16 frame with its samples multiplied by `gain` (clipped to full scale)."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64) * gain
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2").tobytes()


class Microphone(QueuedMicrophone):
    """The device's microphone: the test plays WAV speech into it (80 ms frames, 16 kHz).

    Between utterances it sends nothing, like a quiet room: the assistant's timers run on the
    clock, and the simulator's server VAD ends a turn on the silence played after the speech.
    The queue, its end and the source are the soak's (bench/device.py).
    """

    async def play(self, path: Path, *, silence_s: float = 1.0, gain: float = 1.0) -> None:
        """Queue the frames of a WAV file, then `silence_s` of silence, all at once.

        `gain` scales the samples: a device farther from the speaker hears the same words
        quieter.
        """
        frames = [frame async for frame in frames_of(path, silence_s=silence_s)]
        if gain != 1.0:
            frames = [scaled(frame, gain) for frame in frames]
        self.queue(frames)


@dataclass
class Device:
    """The real service of one device, with its microphone."""

    service: Service
    mic: Microphone = field(default_factory=Microphone)
    sim: RealtimeSimulator | None = None

    @property
    def topics(self) -> Topics:
        """The device's topics."""
        return self.bridge.topics

    @property
    def store(self) -> ConfigStore:
        """The service's config store."""
        return self.service.store

    @property
    def bus(self) -> EventBus:
        """The service's event bus."""
        return self.service.bus

    @property
    def bridge(self) -> MqttBridge:
        """The service's MQTT bridge."""
        return self.service.bridge

    @property
    def assistant(self) -> Assistant:
        """The service's assistant."""
        return self.service.assistant

    @property
    def changes(self) -> list[ConfigChange]:
        """The config changes applied so far (the store's history)."""
        return self.store.history()


def build_device(
    cfg: EdgeVoiceConfig,
    *,
    sim: RealtimeSimulator | None = None,
    options: BridgeOptions = FAST,
    sink: str = "null",
) -> Device:
    """The real service for `cfg` (built by `build_service`), not running yet."""
    service = build_service(
        cfg, api_key=SecretStr(API_KEY), sink=parse_sink(sink), bridge_options=options
    )
    return Device(service, sim=sim)


def light_device(
    broker: BrokerAddress, state_dir: Path, sim: RealtimeSimulator, **sections: Any
) -> Device:
    """A device of its own base topic on `broker` and `sim` that declares the light tool."""
    cfg = make_config(
        broker, state_dir, base=unique_base(), sim=sim, tools=[LIGHT_TOOL], **sections
    )
    return build_device(cfg, sim=sim)


@contextlib.asynccontextmanager
async def running(device: Device, *, connected: bool = True) -> AsyncIterator[Device]:
    """Run the service until the block ends, then end its source (graceful stop).

    With `connected`, the block starts once the bridge is connected.
    """
    task = asyncio.create_task(device.service.run(device.mic.frames()), name="device")
    try:
        if connected:
            online = asyncio.ensure_future(device.bridge.wait_connected())
            await asyncio.wait({online, task}, timeout=TIMEOUT, return_when="FIRST_COMPLETED")
            online.cancel()
            if task.done():
                task.result()  # the service failed: raise its error
            assert device.bridge.connected, f"not connected within {TIMEOUT}s"
        yield device
    finally:
        device.mic.close()
        async with asyncio.timeout(TIMEOUT * 2):
            await task


async def start_conversation(obs: Observer, device: Device) -> dict[str, Any]:
    """`conversation/start`, answered `ok`; returns the `listening` state the device shows."""
    answer = await obs.request(device, "conversation/start", {})
    assert answer["status"] == "ok", answer
    state: dict[str, Any] = await obs.status(device, "listening")
    return state


async def ask(obs: Observer, device: Device, speech: Path = REQUEST) -> None:
    """Start a conversation over MQTT and speak a request into the microphone."""
    await start_conversation(obs, device)
    await device.mic.play(speech)


class ConnectGate:
    """Holds the bridge's (re)connects until the test opens it: a seam, not a mock."""

    # After a broker restart an observer must subscribe before the device reconnects, or it
    # misses the non-retained events the device flushes first.

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = asyncio.Event()
        self.open.set()
        #: Set when a connect attempt reaches the gate: the bridge has seen its link go.
        self.knocked = asyncio.Event()
        gate, knocked = self.open, self.knocked

        class GatedClient(aiomqtt.Client):
            async def __aenter__(self) -> GatedClient:
                knocked.set()
                await gate.wait()
                return await super().__aenter__()

        original = connection.make_client

        def make_client(cfg: Any, topics: Topics, identifier: str) -> aiomqtt.Client:
            client = original(cfg, topics, identifier)
            client.__class__ = GatedClient
            return client

        monkeypatch.setattr(connection, "make_client", make_client)

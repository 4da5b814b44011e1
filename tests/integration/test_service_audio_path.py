"""The audio path under network trouble: the microphone is read and scored whatever the uplink
or the broker does (the service on real parts: openWakeWord, the sim, Mosquitto)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from edge_voice.audio.sinks import parse_sink
from edge_voice.audio.sources import parse_source
from edge_voice.audio.wakeword import WakeWordDetector
from edge_voice.config.loading import validate_config
from edge_voice.events import Event, EventBus, ResponseCompleted, ServiceState, WakeDetected
from edge_voice.mqtt.bridge import BridgeOptions
from edge_voice.mqtt.connection import ReconnectPolicy
from edge_voice.service import build_service
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import demo_wav
from tests.support.broker import BrokerAddress, LocalMosquitto
from tests.support.live_mic import LiveMic
from tests.support.mqtt_observer import unique_base
from tests.support.stalling_session import Stall, stalling_opener

pytestmark = pytest.mark.timeout(90)

KEY = "sk-test-audio-path-0001"
FRAME_S = 0.04  # the mic runs at twice real time: the same audio, half the test time
STALL_S = 2.0
OUTAGE_S = 5.0


async def wav_frames(path: Path) -> list[bytes]:
    """The 80 ms frames of a WAV file."""
    async with parse_source(f"wav:{path}", fast=True) as source:
        return [frame async for frame in source]


class Seen:
    """Every event the service published, and a way to wait for a condition on them."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        self._queue = bus.subscribe()
        self._changed = asyncio.Condition()

    async def record(self) -> None:
        """Run as a task: record events as they come."""
        while True:
            event = await self._queue.get()
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def of(self, kind: type[Event]) -> list[Event]:
        """The events of one type."""
        return [e for e in self.events if isinstance(e, kind)]

    def idle_after(self, responses: int) -> bool:
        """Whether `responses` answers were given and the last state is idle."""
        states = self.of(ServiceState)
        done = len(self.of(ResponseCompleted)) >= responses
        return done and bool(states) and states[-1].status == "idle"  # type: ignore[attr-defined]

    async def until(self, condition: Callable[[], bool], within: float) -> None:
        """Wait until `condition()` holds (re-checked on every event)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(condition)


async def test_a_stalled_uplink_and_a_stopped_broker_do_not_stop_wake_word_scoring(
    restartable_broker: LocalMosquitto, tmp_path: Path
) -> None:
    request = await wav_frames(demo_wav("hey_jarvis_kitchen_light.wav"))
    async with RealtimeSimulator(SimConfig(pacing=0)) as sim:
        cfg = validate_config(
            {
                "device_id": "hall",
                "state_dir": str(tmp_path / "state"),
                "openai": {"base_url": sim.url},
                "mqtt": {
                    "host": restartable_broker.address.host,
                    "port": restartable_broker.address.port,
                    "base_topic": unique_base(),
                },
                # A group of one: every wake word is claimed over the broker first.
                "wakeword": {"arbitration_group": "home"},
                "conversation": {"follow_up_s": 1},
                "tools": [],
            }
        )
        stall = Stall(after=10, seconds=STALL_S)  # well inside the user's request
        service = build_service(
            cfg,
            api_key=KEY,  # type: ignore[arg-type]
            sink=parse_sink("null"),
            bridge_options=BridgeOptions(reconnect=ReconnectPolicy(initial_s=0.2, max_s=0.5)),
            opener=stalling_opener(stall, KEY, sim.url),
        )
        detector = service.assistant.wake_word
        assert isinstance(detector, WakeWordDetector)
        mic = LiveMic(frame_s=FRAME_S)
        seen = Seen(service.bus)
        helpers = [asyncio.create_task(seen.record()), asyncio.create_task(mic.produce())]
        running = asyncio.create_task(service.run(mic, exit_on_eof=True))
        await asyncio.wait_for(service.bridge.wait_connected(), 10)

        mic.say(request)
        await asyncio.wait_for(stall.started.wait(), 20)
        scored = detector.frames
        await asyncio.wait_for(stall.ended.wait(), STALL_S + 5)
        scored_during_stall = detector.frames - scored
        await seen.until(lambda: seen.idle_after(responses=1), within=30)

        restartable_broker.stop()
        scored = detector.frames
        mic.say(request)  # a wake word while the broker is away: its claim cannot wait on it
        await asyncio.sleep(OUTAGE_S)  # the outage itself
        scored_during_outage = detector.frames - scored
        assert not service.bridge.connected  # the bridge saw the broker go
        restartable_broker.start()
        await asyncio.wait_for(service.bridge.wait_connected(), 15)
        assert service.bridge.connections == 2
        await seen.until(lambda: seen.idle_after(responses=2), within=30)

        mic.finish()
        await asyncio.wait_for(running, 30)
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)

    assert scored_during_stall >= 0.8 * STALL_S / FRAME_S
    assert scored_during_outage >= 0.8 * OUTAGE_S / FRAME_S
    assert mic.overflowed == 0  # the service read the microphone all along
    assert detector.frames == mic.delivered == mic.produced  # and scored every frame
    assert len(seen.of(WakeDetected)) == 2
    assert len(seen.of(ResponseCompleted)) == 2  # both conversations were answered
    assert stall.appends > stall.after  # the stalled audio went on to the sim afterwards


async def test_a_cancelled_service_closes_the_assistant_before_the_bridge_says_goodbye(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base_topic = unique_base()
    base = f"{base_topic}/hall"
    async with RealtimeSimulator(SimConfig(pacing=0)) as sim:
        cfg = validate_config(
            {
                "device_id": "hall",
                "state_dir": str(tmp_path / "state"),
                "openai": {"base_url": sim.url},
                "mqtt": {
                    "host": mqtt_broker.host,
                    "port": mqtt_broker.port,
                    "base_topic": base_topic,
                },
            }
        )
        service = build_service(cfg, api_key=KEY, sink=parse_sink("null"))  # type: ignore[arg-type]
        mic = LiveMic(frame_s=FRAME_S)
        producing = asyncio.create_task(mic.produce())
        running = asyncio.create_task(service.run(mic))
        async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as client:
            await client.subscribe(f"{base}/state", qos=1)
            await client.subscribe(f"{base}/availability", qos=1)
            await asyncio.wait_for(service.bridge.wait_connected(), 10)
            await service.assistant.start()
            seen: list[tuple[str, Any]] = []
            async with asyncio.timeout(15):
                async for message in client.messages:
                    payload = bytes(message.payload)  # type: ignore[arg-type]
                    topic = str(message.topic).removeprefix(f"{base}/")
                    seen.append(
                        (
                            topic,
                            payload.decode() if topic == "availability" else json.loads(payload),
                        )
                    )
                    if topic == "state" and seen[-1][1]["connected"] and not running.done():
                        running.cancel()  # what SIGTERM does in `edge-voice run`
                    if seen[-1] == ("availability", "offline"):
                        break
        with pytest.raises(asyncio.CancelledError):
            await running
        mic.finish()
        await asyncio.wait_for(producing, 5)
    states = [p for t, p in seen if t == "state"]
    assert states[-1]["connected"] is False  # the assistant closed...
    assert seen[-1] == ("availability", "offline")  # ...before the bridge said goodbye
    assert service.assistant.wake_word.closed  # type: ignore[attr-defined]

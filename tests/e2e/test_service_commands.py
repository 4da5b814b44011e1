"""Commands over MQTT reach the realtime layer: the next session uses the model and voice set."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from edge_voice.audio.pcm import FRAME_BYTES
from edge_voice.audio.sinks import parse_sink
from edge_voice.config.loading import validate_config
from edge_voice.service import build_service
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import unique_base

pytestmark = pytest.mark.timeout(60)


async def silence_until(stop: asyncio.Event) -> AsyncIterator[bytes]:
    """A quiet room's microphone, at its own pace, until `stop`."""
    while not stop.is_set():
        yield bytes(FRAME_BYTES)
        await asyncio.sleep(0.02)


async def test_model_and_voice_set_over_mqtt_apply_to_the_next_session(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base_topic = unique_base()
    cfg = validate_config(
        {
            "device_id": "hall",
            "state_dir": str(tmp_path),
            "mqtt": {
                "host": mqtt_broker.host,
                "port": mqtt_broker.port,
                "base_topic": base_topic,
                "discovery_prefix": f"{base_topic}_ha",
            },
        }
    )
    base = f"{base_topic}/hall"
    async with RealtimeSimulator(SimConfig(pacing=0)) as sim:
        cfg = cfg.model_copy(update={"openai": cfg.openai.model_copy(update={"base_url": sim.url})})
        service = build_service(cfg, api_key="sk-test-commands-0001", sink=parse_sink("null"))  # type: ignore[arg-type]
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(silence_until(stop)))
        async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as client:
            await client.subscribe(f"{base}/response", qos=1)
            await client.subscribe(f"{base}/state", qos=1)
            await service.bridge.wait_connected()

            async def command(topic: str, payload: str) -> dict[str, object]:
                await client.publish(f"{base}/{topic}", payload, qos=1)
                async with asyncio.timeout(10):
                    async for message in client.messages:
                        if str(message.topic).endswith("/response"):
                            answer: dict[str, object] = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                            return answer
                raise AssertionError("no response")

            assert (await command("model/set", "gpt-realtime-2.1"))["status"] == "ok"
            assert (await command("voice/set", "marin"))["status"] == "ok"
            refused = await command("model/set", "gpt-5-voice")
            assert refused["status"] == "error"
            assert "gpt-5-voice" in str(refused["error"])
            wake = '{"wakeword": {"models": ["alexa", "hey_jarvis"]}}'
            assert (await command("config/set", wake))["status"] == "ok"
            assert (await command("conversation/start", ""))["status"] == "ok"
            updates = await sim.wait_for_received("session.update", within=10)
            stop.set()
        await asyncio.wait_for(running, 30)
    record = sim.connections[0]
    assert record.model == "gpt-realtime-2.1"
    assert updates[0][1]["session"]["audio"]["output"]["voice"] == "marin"
    assert service.store.effective.openai.model == "gpt-realtime-2.1"
    assert service.assistant.wake_word.names == ("alexa", "hey_jarvis")  # reloaded at once

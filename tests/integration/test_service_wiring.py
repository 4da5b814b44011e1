"""The composed service on a real broker and the simulator: last-known-good and metrics timing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from edge_voice.audio.sinks import parse_sink
from edge_voice.config.loading import validate_config
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.service import Service, build_service
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import LIGHT_TOOL, demo_wav, frames_of
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, Received, observer, unique_base
from tests.support.service_device import FAST

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
KEY = SecretStr("sk-test-wiring-0001")


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


def service_config(broker: BrokerAddress, sim: RealtimeSimulator, tmp: Path) -> EdgeVoiceConfig:
    """A device on `broker` talking to `sim`, with the light tool and short timers."""
    base = unique_base()
    return validate_config(
        {
            "device_id": "kitchen",
            "state_dir": str(tmp / "state"),
            "openai": {"base_url": sim.url, "connect_timeout_s": 5},
            "mqtt": {
                "host": broker.host,
                "port": broker.port,
                "base_topic": base,
                "discovery_prefix": f"{base}_ha",
                "ha_status_topic": f"{base}_ha/status",
            },
            "conversation": {"follow_up_s": 1, "function_deadline_ms": 5000},
            "tools": [LIGHT_TOOL],
        }
    )


async def serve_one_request(service: Service) -> None:
    """Once on MQTT, hear "hey jarvis, turn on the kitchen light"; end after that conversation."""

    async def speech() -> AsyncIterator[bytes]:
        await service.bridge.wait_connected()
        async for frame in frames_of(demo_wav("hey_jarvis_kitchen_light.wav")):
            yield frame

    async with asyncio.timeout(40):
        await service.run(speech(), exit_on_eof=True)


async def answer_calls(obs: Observer, base: str, before_answering: Any = None) -> None:
    """A flow: answer every function call (after `before_answering`, if given)."""
    while True:
        call = await obs.expect(f"{base}/event/function_call", within=60)
        if before_answering is not None:
            await before_answering()
        result = {"call_id": call.json()["call_id"], "output": {"ok": True}}
        await obs.publish(f"{base}/function_call/result", json.dumps(result))


def _own(obs: Observer, base: str) -> list[Received]:
    return [m for m in obs.messages if m.topic.startswith(f"{base}/")]


def kinds(obs: Observer, base: str) -> list[str]:
    """The topics the device published, in order, without the base."""
    return [m.topic.removeprefix(f"{base}/") for m in _own(obs, base)]


async def test_a_config_set_during_a_conversation_is_not_marked_good_by_it(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = service_config(mqtt_broker, sim, tmp_path)
    service = build_service(cfg, api_key=KEY, sink=parse_sink("null"), bridge_options=FAST)
    base = service.bridge.topics.base
    async with observer(mqtt_broker, f"{base}/#") as obs:

        async def change_the_config() -> None:
            # The conversation began under version 0; version 1 is never used by one.
            patch = {"budget": {"daily_usd": 2.5}}
            assert (await obs.request(_AsDevice(service), "config/set", patch))["status"] == "ok"

        flow = asyncio.create_task(answer_calls(obs, base, change_the_config))
        try:
            await serve_one_request(service)
        finally:
            flow.cancel()
        assert len(obs.on(f"{base}/event/response")) == 2  # the call, then the answer
    assert service.store.version == 1
    assert service.store.last_good is None, "version 1 never completed a conversation"
    assert not obs.on(f"{base}/config/last_good")


async def test_metrics_follow_a_fallback_at_once_and_the_end_of_a_conversation(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.config.refuse_models.add("gpt-realtime")
    cfg = service_config(mqtt_broker, sim, tmp_path)
    service = build_service(cfg, api_key=KEY, sink=parse_sink("null"), bridge_options=FAST)
    base = service.bridge.topics.base
    stop = asyncio.Event()
    async with observer(mqtt_broker, f"{base}/#") as obs:
        running = asyncio.create_task(service.run(silence_until(stop)))
        try:
            await asyncio.wait_for(service.bridge.wait_connected(), 10)
            await obs.publish(f"{base}/conversation/start", "")
            listening = await next_state(obs, base, "listening")  # on the fallback model
            fallback = await obs.expect(f"{base}/event/fallback")
            # Nobody speaks, so no response comes: the fallback's metrics must not wait for one
            # (nor for the end of the conversation).
            changed = await next_metrics(obs, base, lambda m: m["fallbacks"] == 1)
            assert position(obs, changed) > position(obs, fallback)
            states = obs.on(f"{base}/state")
            later = states[states.index(listening) :]
            assert all(position(obs, s) > position(obs, changed) for s in later[1:])

            await obs.publish(f"{base}/conversation/stop", "")
            idle = await next_state(obs, base, "idle")
            ended = await next_metrics(obs, base, lambda m: True)
            assert position(obs, ended) > position(obs, idle), "metrics after the conversation"
            assert ended.json()["conversations"] == 1 and ended.json()["fallbacks"] == 1
        finally:
            stop.set()
            await asyncio.wait_for(running, 20)
    assert not obs.on(f"{base}/event/response")


async def test_a_config_command_mid_conversation_config_then_state_then_the_answer(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = service_config(mqtt_broker, sim, tmp_path)
    service = build_service(cfg, api_key=KEY, sink=parse_sink("null"), bridge_options=FAST)
    base = service.bridge.topics.base
    stop = asyncio.Event()
    async with observer(mqtt_broker, f"{base}/#") as obs:
        running = asyncio.create_task(service.run(silence_until(stop)))
        try:
            await asyncio.wait_for(service.bridge.wait_connected(), 10)
            await obs.publish(f"{base}/conversation/start", "")
            await next_state(obs, base, "listening")
            answer = await obs.request(
                _AsDevice(service), "model/set", {"model": "gpt-realtime-mini"}
            )
            assert answer["status"] == "ok"
            config = await obs.expect(f"{base}/config", lambda m: m.json()["version"] == 1)
            state = await next_state(obs, base, "listening")
            response = obs.on(f"{base}/response")[-1]
            assert position(obs, config) < position(obs, state) < position(obs, response)
            # From the assistant: the conversation goes on with the old model.
            assert (state.json()["model"], state.json()["active_model"]) == (
                "gpt-realtime-mini",
                "gpt-realtime",
            )
            await obs.publish(f"{base}/conversation/stop", "")
            idle = (await next_state(obs, base, "idle")).json()
            assert (idle["model"], idle["connected"]) == ("gpt-realtime-mini", False)
        finally:
            stop.set()
            await asyncio.wait_for(running, 20)


async def test_the_wake_word_is_claimed_in_the_arbitration_group_through_the_bridge(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = service_config(mqtt_broker, sim, tmp_path)
    cfg = cfg.model_copy(
        update={"wakeword": cfg.wakeword.model_copy(update={"arbitration_group": "downstairs"})}
    )
    service = build_service(cfg, api_key=KEY, sink=parse_sink("null"), bridge_options=FAST)
    topics = service.bridge.topics
    async with observer(mqtt_broker, f"{topics.base}/#", topics.arbitration()) as obs:
        flow = asyncio.create_task(answer_calls(obs, topics.base))
        try:
            await serve_one_request(service)
        finally:
            flow.cancel()
    claims = [m.json() for m in obs.on(topics.arbitration())]
    assert [c["device_id"] for c in claims] == ["kitchen"]
    assert claims[0]["score"] > 0.5
    assert obs.on(f"{topics.base}/event/response"), "alone in the group, it answered"


async def silence_until(stop: asyncio.Event) -> AsyncIterator[bytes]:
    """A quiet room's microphone, at its own pace, until `stop`."""
    while not stop.is_set():
        yield bytes(2560)
        await asyncio.sleep(0.02)  # the pace of a microphone, not a synchronisation


def position(obs: Observer, message: Received) -> int:
    """Where `message` is in what the observer received."""
    return next(i for i, m in enumerate(obs.messages) if m is message)


async def next_state(obs: Observer, base: str, status: str) -> Received:
    """Take the device's states in order until one with `status`."""
    while True:
        state = await obs.expect(f"{base}/state", within=10)
        if state.json()["status"] == status:
            return state


async def next_metrics(obs: Observer, base: str, where: Any) -> Received:
    """Take the device's metrics in order until one satisfying `where`."""
    while True:
        metrics = await obs.expect(f"{base}/metrics", within=5)
        if where(metrics.json()):
            return metrics


class _AsDevice:
    """What `Observer.request` needs of a device: its topics."""

    def __init__(self, service: Service) -> None:
        self.topics = service.bridge.topics

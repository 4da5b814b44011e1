"""Internal events reach MQTT: events QoS 1 not retained, states retained, queued while offline."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from edge_voice.events import (
    ErrorOccurred,
    FallbackOccurred,
    FunctionCallRequested,
    ResponseCompleted,
    Transcript,
    WakeDetected,
)
from edge_voice.models.migration import FallbackEvent
from tests.integration.test_mqtt_harness import (
    TIMEOUT,
    ConnectGate,
    build_device,
    connected_state,
    make_config,
    observer,
    running,
    unique_base,
)
from tests.support.broker import BrokerAddress, LocalMosquitto

pytestmark = pytest.mark.broker

STATE = connected_state("listening")


async def test_every_event_kind_is_published_qos1_not_retained_and_state_retained(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    events = {
        "wake": WakeDetected(wakeword="hey_jarvis", score=0.91),
        "transcript": Transcript(role="user", text="Lights on", item_id="i1"),
        "function_call": FunctionCallRequested(
            call_id="c1", name="set_light", arguments="{}", model="gpt-realtime", deadline_ms=8000
        ),
        "response": ResponseCompleted(
            response_id="r1",
            model="gpt-realtime",
            voice="cedar",
            usage={"total_tokens": 10},
            cost_usd=0.001,
            latency_ms={"first_audio": 500.0},
        ),
        "fallback": FallbackOccurred(
            fallback=FallbackEvent("gpt-realtime", "gpt-4o-realtime-preview", "model_not_found")
        ),
        "error": ErrorOccurred(code="rate_limited", message="slow down"),
    }
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        for event in events.values():
            device.bus.publish(event)
        device.bus.publish(STATE)
        for kind in events:
            seen = await obs.expect(f"{topics.base}/event/{kind}")
            assert (seen.qos, seen.retain) == (1, False)
            assert "ts" in seen.json()
        assert (await obs.expect(topics.state)).json()["status"] == "listening"
    async with observer(mqtt_broker, topics.state) as late:
        retained = await late.expect(topics.state)
        assert retained.retain and retained.json()["status"] == "listening"


async def test_while_the_broker_is_down_the_queue_bound_holds_states_first_then_old_events(
    restartable_broker: LocalMosquitto,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="edge_voice.mqtt")
    gate = ConnectGate(monkeypatch)
    broker = restartable_broker.address
    cfg = make_config(broker, tmp_path, base=unique_base(), mqtt={"queue_size": 5})
    device = build_device(cfg)
    topics = device.topics
    transcript = topics.event("transcript")
    outbox = device.bridge.outbox
    async with running(device):
        gate.open.clear()
        gate.knocked.clear()
        restartable_broker.stop()
        await asyncio.wait_for(gate.knocked.wait(), TIMEOUT)  # the bridge knows: offline now
        device.bus.publish(connected_state("thinking"))
        for i in range(8):  # 4 more than the queue holds beside the state
            device.bus.publish(Transcript(role="assistant", text=f"answer {i}"))
        device.bus.publish(STATE)  # the queue is full of events: the state is only remembered
        restartable_broker.start()
        async with observer(broker, transcript, topics.state) as obs:
            gate.open.set()
            texts = [(await obs.expect(transcript)).json()["text"] for _ in range(5)]
            assert (await obs.expect(topics.state)).json()["status"] == "listening"
        assert texts == [f"answer {i}" for i in range(3, 8)]
        # The bound (5) held: the first state went before any event, then the 3 oldest events;
        # the last state was never queued behind the events, only remembered.
        assert (device.bridge.dropped, outbox.dropped_states) == (3, 2)
        assert not obs.on(topics.state)[1:], "the latest state only, once"
    drops = [r for r in caplog.records if "dropped the oldest" in r.getMessage()]
    assert len(drops) == 3 and "3 dropped so far" in drops[-1].getMessage()

"""What a conversation raises reaches MQTT: events QoS 1 not retained, states retained; queued
while the broker is away."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from edge_voice.events import ErrorOccurred, Transcript
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import LIGHT_TOOL
from tests.support.broker import BrokerAddress, LocalMosquitto
from tests.support.mqtt_observer import TIMEOUT, observer, unique_base
from tests.support.service_device import (
    WAKE_REQUEST,
    ConnectGate,
    Device,
    build_device,
    light_device,
    make_config,
    running,
)

pytestmark = pytest.mark.broker

EVENT_KINDS = ("wake", "fallback", "transcript", "function_call", "response", "error")


async def test_every_event_kind_of_a_real_conversation_is_published_qos1_not_retained(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    sim.config.refuse_models.add("gpt-realtime")  # the primary refuses: a fallback
    # Any cost reaches this budget: the second conversation is refused with an error.
    budget = {"daily_usd": 1e-9, "action": "refuse"}
    cfg = make_config(
        mqtt_broker, tmp_path, base=unique_base(), sim=sim, tools=[LIGHT_TOOL], budget=budget
    )
    device = build_device(cfg, sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await device.mic.play(WAKE_REQUEST)  # "Hey Jarvis, turn on the kitchen light."
        call = (await obs.expect(topics.event("function_call"))).json()
        answer = await obs.request(
            device, "function_call/result", {"call_id": call["call_id"], "output": "done"}
        )
        assert answer["status"] == "ok"
        said = await obs.expect(
            topics.event("transcript"), lambda m: m.json()["role"] == "assistant"
        )
        assert said.json()["text"] == "The kitchen light is on."
        await obs.status(device, "idle", after=said)
        assert (await obs.request(device, "conversation/start", {}))["status"] == "ok"
        refused = await obs.expect(topics.event("error"))
        assert refused.json()["code"] == "budget_exceeded"
        await obs.status(device, "idle", after=refused)  # the refused conversation is over

        for kind in EVENT_KINDS:
            seen = obs.on(topics.event(kind))
            assert seen, kind
            assert all((m.qos, m.retain) == (1, False) and "ts" in m.json() for m in seen), kind
        wake = obs.on(topics.event("wake"))[0].json()
        assert wake["wakeword"] == "hey_jarvis" and wake["score"] > 0.5
        fallback = obs.on(topics.event("fallback"))[0].json()
        assert (fallback["from"], fallback["to"]) == ("gpt-realtime", "gpt-4o-realtime-preview")
        assert call["name"] == "set_light" and call["model"] == "gpt-4o-realtime-preview"
        responses = [m.json() for m in obs.on(topics.event("response"))]
        assert len(responses) == 2
        assert all(r["cost_usd"] > 0 and r["model"] == "gpt-4o-realtime-preview" for r in responses)
        user = obs.on(topics.event("transcript"))[0].json()
        assert (user["role"], user["text"]) == ("user", "Hey Jarvis, turn on the kitchen light.")
        # The conversation's path, then the refused one (a state the bridge could not send yet
        # is replaced by the next: HA sees the latest).
        statuses = [m.json()["status"] for m in obs.on(topics.state)]
        path = iter(["idle", "awake", "listening", "responding", "follow_up", "idle", "awake"])
        assert "responding" in statuses and all(s in path for s in statuses[:-1]), statuses
        assert statuses[-1] == "idle"
        assert all(m.qos == 1 for m in obs.on(topics.state))  # retained: see the late observer
    async with observer(mqtt_broker, topics.state) as late:
        retained = await late.expect(topics.state)
        assert retained.retain and retained.json()["status"] == "idle"
        assert retained.json()["fallback_active"] is True


def _handled(device: Device) -> int:
    """Publications the bridge took into its outbox so far: queued, in flight or dropped."""
    outbox = device.bridge.outbox
    return len(outbox) + outbox.dropped_events + outbox.dropped_states


async def _forwarded(device: Device, publications: int) -> None:
    """Until the bridge has taken `publications` off the bus into its outbox."""
    async with asyncio.timeout(TIMEOUT):
        # No event tells when the pump took one: yield to it (sleep(0) is no timed wait).
        while _handled(device) < publications:  # noqa: ASYNC110
            await asyncio.sleep(0)


async def test_while_the_broker_is_down_the_queue_bound_holds_states_first_then_old_events(
    restartable_broker: LocalMosquitto,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The outbox bound, not the conversation, is under test: the transcripts are published on
    # the service's bus by hand (a real conversation cannot make eight during an outage), one
    # at a time as a producer would (the bus holds only queue_size events between two ticks).
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
        before = _handled(device)
        device.assistant.publish_state()
        for i in range(8):  # 4 more than the queue holds beside the state
            device.bus.publish(Transcript(role="assistant", text=f"answer {i}"))
            await _forwarded(device, before + i + 2)
        device.assistant.publish_state()  # the queue is full of events: only remembered
        restartable_broker.start()
        async with observer(broker, transcript, topics.state) as obs:
            gate.open.set()
            texts = [(await obs.expect(transcript)).json()["text"] for _ in range(5)]
            assert (await obs.expect(topics.state)).json()["status"] == "idle"
        assert texts == [f"answer {i}" for i in range(3, 8)]
        # The bound (5) held: the first state went before any event, then the 3 oldest events;
        # the last state was never queued behind the events, only remembered.
        assert (device.bridge.dropped, outbox.dropped_states) == (3, 2)
        assert not obs.on(topics.state)[1:], "the latest state only, once"
    drops = [r for r in caplog.records if "dropped the oldest" in r.getMessage()]
    assert len(drops) == 3 and "3 dropped so far" in drops[-1].getMessage()


async def test_a_function_call_queued_while_the_broker_was_away_is_dropped_at_its_deadline(
    restartable_broker: LocalMosquitto,
    sim: RealtimeSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A real conversation asks for a tool while the broker is away: nobody can answer, the
    # model is told the call failed. Delivered on reconnect, a flow would still switch the
    # light: the call must not go out, the timeout error must.
    caplog.set_level(logging.WARNING, logger="edge_voice.mqtt")
    gate = ConnectGate(monkeypatch)
    broker = restartable_broker.address
    device = light_device(broker, tmp_path, sim, conversation={"function_deadline_ms": 300})
    topics = device.topics
    events = device.bus.subscribe()
    async with running(device):
        gate.open.clear()
        gate.knocked.clear()
        restartable_broker.stop()
        await asyncio.wait_for(gate.knocked.wait(), TIMEOUT)  # the bridge knows: offline now
        await device.mic.play(WAKE_REQUEST)  # "Hey Jarvis, turn on the kitchen light."
        async with asyncio.timeout(TIMEOUT):
            while not isinstance(event := await events.get(), ErrorOccurred):
                pass
        assert event.code == "function_call_timeout", event
        restartable_broker.start()
        async with observer(broker, f"{topics.base}/event/#") as obs:
            gate.open.set()
            error = await obs.expect(topics.event("error"))
            assert error.json()["code"] == "function_call_timeout"
            assert error.json()["name"] == "set_light"
        # Events keep their order: had the call gone out, it would have come before its error.
        assert obs.on(topics.event("wake")), "the events queued before the call went out"
        assert not obs.on(topics.event("function_call"))
        assert device.bridge.outbox.expired == 1
    said = [r.getMessage() for r in caplog.records if "expired" in r.getMessage()]
    assert len(said) == 1 and "(set_light, deadline 300 ms)" in said[0], said

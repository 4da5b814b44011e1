"""Announcements (`<base>/say`) on a real broker and the simulator, through the real service:
spoken verbatim as an out-of-band response, priced, queued behind a conversation, optionally
followed by listening; bad payloads answered with an error and nothing spoken."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.events import ServiceState
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, Received, observer, unique_base
from tests.support.service_device import (
    REQUEST,
    Device,
    build_device,
    make_config,
    running,
    start_conversation,
)

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


def _device(broker: BrokerAddress, sim: RealtimeSimulator, tmp: Path, **extra: Any) -> Device:
    return build_device(make_config(broker, tmp, base=unique_base(), sim=sim, **extra), sim=sim)


def _said(obs: Observer, device: Device) -> list[str]:
    return [
        m.json()["text"]
        for m in obs.on(device.topics.event("transcript"))
        if m.json()["role"] == "assistant"
    ]


def _index(obs: Observer, message: Received) -> int:
    return next(i for i, m in enumerate(obs.messages) if m is message)


def _creates(sim: RealtimeSimulator) -> list[dict[str, Any]]:
    return [e for _, e in sim.received if e.get("type") == "response.create"]


async def _say(obs: Observer, device: Device, payload: str) -> Any:
    topic = f"{device.topics.base}/say"
    await obs.publish(topic, payload)
    return await obs.answer(device, topic)


@pytest.mark.parametrize(
    ("model", "modalities"),
    [("gpt-realtime", "output_modalities"), ("gpt-4o-realtime-preview", "modalities")],
)
async def test_say_is_spoken_verbatim_out_of_band_priced_then_idle(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path, model: str, modalities: str
) -> None:
    device = _device(mqtt_broker, sim, tmp_path, openai={"model": model})
    topics = device.topics
    text = "The washing machine is done."
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        assert (await _say(obs, device, text))["status"] == "ok"
        said = await obs.expect(
            topics.event("transcript"), lambda m: m.json()["role"] == "assistant"
        )
        assert said.json()["text"] == text  # verbatim, not the scenario's next answer
        response = (await obs.expect(topics.event("response"))).json()
        await obs.status(device, "idle", after=said)
        statuses = [m.json()["status"] for m in obs.on(topics.state)]
        assert "responding" in statuses and "listening" not in statuses, statuses
    assert response["kind"] == "announcement" and response["model"] == model
    assert response["cost_usd"] > 0 and response["usage"]["audio_out"] > 0
    # No context: only the instructions are billed, no audio, nothing of a conversation.
    assert response["usage"]["audio_in"] == 0 and response["usage"]["text_in"] > 0
    (create,) = _creates(sim)
    options = create["response"]
    assert options["conversation"] == "none" and options["input"] == []
    assert options["instructions"].endswith(text) and modalities in options
    record = sim.connections[-1]
    assert record.protocol == ("ga" if model == "gpt-realtime" else "beta")
    added = {"conversation.item.added", "conversation.item.created"}
    assert not added & set(record.sent_types())  # out of band: nothing entered the conversation


async def test_say_during_a_conversation_waits_for_its_end(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = _device(mqtt_broker, sim, tmp_path)
    topics = device.topics
    # Every state as the assistant made it (MQTT may skip one replaced before it was sent).
    statuses: list[str] = []
    device.bus.on(ServiceState, lambda state: statuses.append(state.status))
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await start_conversation(obs, device)
        assert (await _say(obs, device, "Dinner is ready."))["status"] == "ok"
        await device.mic.play(REQUEST)
        answer = await obs.expect(topics.event("response"))
        announced = await obs.expect(topics.event("response"))
        assert _said(obs, device)[-1] == "Dinner is ready."
        await obs.status(device, "idle", after=announced)
    assert answer.json()["kind"] == "answer" and announced.json()["kind"] == "announcement"
    changes = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    # The conversation to its end (follow-up timed out), then the announcement from idle.
    conversation = ["awake", "listening", "responding", "follow_up", "idle"]
    assert changes[-len(conversation) - 2 :] == [*conversation, "responding", "idle"], changes
    assert _said(obs, device)[0] != "Dinner is ready."  # the conversation's own answer first
    metrics = obs.on(topics.metrics)[-1].json()
    total = answer.json()["cost_usd"] + announced.json()["cost_usd"]
    assert metrics["cost_total_usd"] == pytest.approx(total, abs=1e-6)  # both priced alike


async def test_start_conversation_listens_for_the_answer_with_the_announcement_as_context(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = _device(mqtt_broker, sim, tmp_path, conversation={"follow_up_s": 3})
    topics = device.topics
    text = "The garage door is open. Shall I close it?"
    payload = json.dumps({"text": text, "start_conversation": True, "transaction": "g1"})
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        answer = await _say(obs, device, payload)
        assert (answer["status"], answer["transaction"]) == ("ok", "g1")
        announced = await obs.expect(topics.event("response"))
        await obs.status(device, "follow_up", after=announced)
        await device.mic.play(REQUEST)  # answered without the wake word
        user = await obs.expect(topics.event("transcript"), lambda m: m.json()["role"] == "user")
        reply = await obs.expect(topics.event("response"))
        await obs.status(device, "idle", within=15, after=reply)
    assert announced.json()["kind"] == "announcement" and reply.json()["kind"] == "answer"
    assert _index(obs, announced) < _index(obs, user)
    items = [e["item"] for _, e in sim.received if e.get("type") == "conversation.item.create"]
    context = [i for i in items if i.get("role") == "assistant"]
    assert [c["content"][0]["text"] for c in context] == [text]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("", "missing_field"),
        ('{"text": "   "}', "invalid_value"),
        ('{"txt": "hello"}', "unknown_field"),
        ('{"text": "hello", "voice": "robot"}', "unknown_value"),
        ('{"text": "hello", "start_conversation": "yes"}', "wrong_type"),
        ('{"text": "hello"', "malformed_json"),
    ],
)
async def test_a_bad_say_payload_is_answered_with_an_error_and_nothing_is_said(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path, payload: str, code: str
) -> None:
    device = _device(mqtt_broker, sim, tmp_path)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        answer = await _say(obs, device, payload)
        assert answer["status"] == "error" and answer["error"].startswith("say"), answer
        error = (await obs.expect(topics.event("error"))).json()
        assert (error["code"], error["source_topic"]) == (code, f"{topics.base}/say"), error
        await obs.barrier(device)
        assert {m.json()["status"] for m in obs.on(topics.state)} == {"idle"}
    assert not _creates(sim) and not sim.connections  # nothing was asked of the model


async def test_the_queue_is_bounded(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = _device(mqtt_broker, sim, tmp_path)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        await start_conversation(obs, device)  # announcements wait for its end
        for n in range(10):
            assert (await _say(obs, device, f"Announcement {n}."))["status"] == "ok"
        refused = await _say(obs, device, "One too many.")
        assert refused["status"] == "error" and "10 announcements" in refused["error"]
        assert (await obs.expect(device.topics.event("error"))).json()["code"] == "queue_full"
        assert (await obs.request(device, "conversation/stop", {}))["status"] == "ok"
        await obs.expect_count(device.topics.event("response"), 10)
        await obs.status(device, "idle", after=obs.on(device.topics.event("response"))[-1])
    assert _said(obs, device) == [f"Announcement {n}." for n in range(10)]

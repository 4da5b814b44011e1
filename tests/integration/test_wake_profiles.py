"""A profile per wake word, false wakes and tuning from Home Assistant, on the real service:
openWakeWord on espeak-ng speech, the simulator over real sockets, Mosquitto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.observe import ConnectionRecord
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import LIGHT_TOOL
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import (
    WAKE_REQUEST,
    build_device,
    make_config,
    running,
)
from tests.support.speech import Speech, SpeechCache

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather outside",
    "parameters": {"type": "object", "properties": {}},
}
INSTRUCTIONS = "Answer in one short sentence."
ALEXA_PROFILE = {
    "model": "gpt-realtime-mini",
    "voice": "marin",
    "instructions": INSTRUCTIONS,
    "tools": ["set_light", "no_such_tool"],
}
#: The wake word alone: the room stays quiet after it (a false wake).
ALEXA = Speech("alexa", voice="en", speed=140)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> SpeechCache:
    """Utterances rendered once for this module."""
    return SpeechCache(tmp_path_factory.mktemp("speech"))


def session_of(record: ConnectionRecord) -> dict[str, Any]:
    """What the session.update events of one connection asked for, merged."""
    merged: dict[str, Any] = {}
    for event in record.received:
        if event.get("type") == "session.update":
            merged.update(event["session"])
    return merged


def voice_of(session: dict[str, Any]) -> str:
    """The voice of a GA session.update."""
    return str(session["audio"]["output"]["voice"])


def tool_names(session: dict[str, Any]) -> set[str]:
    """The function tools a session.update declared."""
    return {t["name"] for t in session.get("tools", []) if t.get("type") == "function"}


async def test_each_wake_word_gets_its_profile_and_a_silent_wake_is_a_free_false_wake(
    mqtt_broker: BrokerAddress,
    sim: RealtimeSimulator,
    speech: SpeechCache,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wakeword = {
        "models": ["hey_jarvis", "alexa"],
        "no_speech_timeout_s": 1.5,
        "words": {"alexa": {"profile": ALEXA_PROFILE}},
    }
    cfg = make_config(
        mqtt_broker,
        tmp_path,
        base=unique_base(),
        sim=sim,
        tools=[LIGHT_TOOL, WEATHER_TOOL],
        wakeword=wakeword,
    )
    device = build_device(cfg, sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        # "Alexa", then silence: its profile's session, then a quiet end, counted, unbilled.
        await device.mic.play(speech.wav(ALEXA), silence_s=4.0)
        wake = (await obs.expect(topics.event("wake"))).json()
        assert (wake["event_type"], wake["wakeword"], wake["profile"]) == (
            "detected",
            "alexa",
            "alexa",
        )
        listening = await obs.status(device, "listening")
        assert listening["profile"] == "alexa"
        first = await sim.observer.wait_for(lambda: sim.observer.connections[:1])
        session = await sim.observer.wait_for(lambda: session_of(first[0]))
        assert first[0].model == "gpt-realtime-mini"
        assert voice_of(session) == "marin"
        assert session["instructions"] == INSTRUCTIONS
        assert tool_names(session) == {"set_light", "get_time", "end_conversation"}
        false = await obs.expect(
            topics.event("wake"), lambda m: m.json()["event_type"] == "false_wake"
        )
        assert (false.json()["wakeword"], false.json()["profile"]) == ("alexa", "alexa")
        idle = await obs.status(device, "idle", after=false)
        assert idle["profile"] is None
        metrics = await obs.expect(topics.metrics, lambda m: m.json()["false_wakes_today"] == 1)
        assert metrics.json()["false_wakes_total"] == 1
        assert metrics.json()["cost_total_usd"] == 0.0  # nothing asked, nothing billed
        assert device.service.metrics.ledger.total_nusd == 0
        assert all(e.get("type") != "response.create" for e in first[0].received)
        assert "no tool 'no_such_tool'" in caplog.text

        # "Hey Jarvis, turn on the kitchen light.": no profile, the global settings, on a new
        # session (the warm one carries alexa's profile); speech, so no false wake.
        await device.mic.play(WAKE_REQUEST)
        wake = (
            await obs.expect(topics.event("wake"), lambda m: m.json()["wakeword"] == "hey_jarvis")
        ).json()
        assert wake["profile"] is None
        call = (await obs.expect(topics.event("function_call"))).json()
        answer = await obs.request(
            device, "function_call/result", {"call_id": call["call_id"], "output": "done"}
        )
        assert answer["status"] == "ok"
        said = await obs.expect(topics.event("response"))
        assert said.json()["voice"] == "cedar"
        await obs.status(device, "idle", after=said)
        second = sim.observer.connections[1]
        session = session_of(second)
        assert second.model == "gpt-realtime"
        assert voice_of(session) == "cedar"
        assert session["instructions"] == cfg.openai.instructions
        assert {"set_light", "get_weather"} <= tool_names(session)
        assert first[0].closed
        await obs.barrier(device)
        last = obs.on(topics.metrics)[-1].json()
        assert (last["false_wakes_today"], last["false_wakes_total"]) == (1, 1)
        assert last["cost_total_usd"] > 0
        assert caplog.text.count("no tool 'no_such_tool'") == 1  # warned once


async def test_a_home_assistant_number_tunes_a_wake_word_persistently_and_bad_ones_are_refused(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    cfg = make_config(
        mqtt_broker, tmp_path, base=unique_base(), wakeword={"models": ["hey_jarvis"]}
    )
    device = build_device(cfg)
    topics = device.topics
    threshold = topics.wakeword("hey_jarvis", "threshold")
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        before = device.assistant.wake_word
        state = await obs.expect(topics.state)
        assert state.json()["wakewords"]["hey_jarvis"]["threshold"] == 0.5
        await obs.publish(threshold, "0.62")  # what HA's number sends: the plain value
        assert (await obs.answer(device, threshold))["status"] == "ok"
        await obs.expect(
            topics.state, lambda m: m.json()["wakewords"]["hey_jarvis"]["threshold"] == 0.62
        )
        config = await obs.expect(
            topics.config,
            lambda m: m.json()["wakeword"]["words"].get("hey_jarvis", {}).get("threshold") == 0.62,
        )
        assert config.json()["wakeword"]["threshold"] == 0.5  # the global one is untouched
        assert device.assistant.wake_word is not before  # the detector was rebuilt
        refractory = topics.wakeword("hey_jarvis", "refractory_s")
        await obs.publish(refractory, json.dumps({"value": 3, "transaction": "r1"}))
        assert (await obs.answer(device, refractory))["transaction"] == "r1"

        version = device.store.version
        for topic, payload, code in (
            (threshold, "loud", "wrong_type"),
            (threshold, "1.5", "invalid_value"),
            (threshold, "0", "invalid_value"),
            (refractory, "-1", "invalid_value"),
            (topics.wakeword("alexa", "threshold"), "0.7", "unknown_value"),
        ):
            await obs.publish(topic, payload)
            answer = await obs.answer(device, topic)
            assert answer["status"] == "error", (topic, payload)
            error = await obs.expect(
                topics.event("error"), lambda m, t=topic: m.json().get("source_topic") == t
            )
            assert error.json()["code"] == code, (payload, error.json())
        assert "hey_jarvis" in answer["error"]  # the unknown word's answer names those listening
        assert device.store.version == version  # nothing changed
        overrides = {o.key: o.value for o in device.store.overrides()}
        assert overrides == {
            "wakeword.words.hey_jarvis.threshold": 0.62,
            "wakeword.words.hey_jarvis.refractory_s": 3,
        }

    # A restart keeps the override: the retained state shows it again.
    restarted = build_device(cfg)
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(restarted):
        state = await obs.expect(
            topics.state, lambda m: m.json()["wakewords"]["hey_jarvis"]["threshold"] == 0.62
        )
        assert state.json()["wakewords"]["hey_jarvis"]["refractory_s"] == 3
        reset = await obs.request(restarted, "config/reset", {})
        assert reset["status"] == "ok"
        await obs.expect(
            topics.state, lambda m: m.json()["wakewords"]["hey_jarvis"]["threshold"] == 0.5
        )

"""Every command round trip on the real service: state, `response` with the transaction, config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import LIGHT_TOOL
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import Observer, observer, unique_base
from tests.support.service_device import (
    REQUEST,
    Device,
    ask,
    build_device,
    make_config,
    running,
    start_conversation,
)

pytestmark = pytest.mark.broker


async def _ok(obs: Observer, device: Device, suffix: str, payload: dict[str, object]) -> None:
    answer = await obs.request(device, suffix, payload)
    assert answer["status"] == "ok", answer
    assert answer["topic"] == f"{device.topics.base}/{suffix}"


IDLE_CLOSED = {"status": "idle", "connected": False}


def _where(key: str, value: object) -> Any:
    return lambda m: m.json()[key] == value


async def _completed(obs: Observer, device: Device) -> dict[str, Any]:
    """Speak a request after conversation/start; the last good config its completion makes."""
    await ask(obs, device)
    good: dict[str, Any] = (await obs.expect(device.topics.config_last_good)).json()
    await obs.status(device, "idle")
    return good


def _session_tools(sim: RealtimeSimulator, since: int) -> dict[str, str]:
    """Name → description of the tools in the last session.update the simulator received."""
    updates = [e for _, e in sim.received[since:] if e["type"] == "session.update"]
    assert updates, "no session.update"
    return {t["name"]: t.get("description", "") for t in updates[-1]["session"]["tools"]}


async def test_model_selection_voice_and_config_set_echo_state_and_config(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await _ok(obs, device, "model/set", {"model": "gpt-realtime-mini"})
        state = (await obs.expect(topics.state, _where("model", "gpt-realtime-mini"))).json()
        config = (await obs.expect(topics.config, lambda m: m.json()["version"] > 0)).json()
        assert state["status"] == "idle"
        assert config["openai"]["model"] == "gpt-realtime-mini"
        assert config["version"] == device.store.version == 1

        await _ok(obs, device, "model_selection/set", {"model_selection": "legacy"})
        await obs.expect(topics.state, _where("model_selection", "legacy"))

        await _ok(obs, device, "voice/set", {"voice": "ash"})  # on the legacy model too
        await obs.expect(topics.state, _where("voice", "ash"))

        await _ok(obs, device, "config/set", {"budget": {"daily_usd": 2.5}})
        config = (await obs.expect(topics.config, _where("version", 4))).json()
        assert config["budget"]["daily_usd"] == 2.5
        assert [c.version for c in device.changes] == [1, 2, 3, 4]
    assert device.store.effective.openai.model_selection == "legacy"
    # What Home Assistant finds retained afterwards: the assistant's state with every change.
    async with observer(mqtt_broker, topics.state) as late:
        state = (await late.expect(topics.state)).json()
    assert (state["model"], state["model_selection"], state["voice"]) == (
        "gpt-realtime-mini",
        "legacy",
        "ash",
    )


async def test_plain_payloads_from_home_assistant_are_answered_without_transaction(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await obs.publish(f"{topics.base}/voice/set", "marin")
        answer = (await obs.expect(topics.response)).json()
        assert answer == {"topic": f"{topics.base}/voice/set", "status": "ok", "ts": answer["ts"]}
        await obs.expect(topics.state, _where("voice", "marin"))


async def test_rollback_to_last_good_and_to_the_legacy_profile(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        answer = await obs.request(device, "config/rollback", {})
        assert answer["status"] == "error" and "no last known good" in answer["error"]

        good = await _completed(obs, device)  # a conversation completed with version 0
        assert (good["version"], good["openai"]["model"]) == (0, "gpt-realtime")

        await _ok(obs, device, "model/set", {"model": "gpt-realtime-mini"})
        await _ok(obs, device, "config/rollback", {"target": "last_good"})
        await obs.expect(topics.state, _where("model", "gpt-realtime"))
        assert device.store.effective.openai.model == "gpt-realtime"

        await obs.publish(f"{topics.base}/config/rollback", "legacy")
        await obs.expect(topics.response, _where("status", "ok"))
        config = (await obs.expect(topics.config, _where("version", 3))).json()
        assert config["openai"]["model_selection"] == "legacy"
        assert config["openai"]["disable_new_features"] is True
        await obs.expect(topics.state, _where("model_selection", "legacy"))


async def test_model_change_during_a_conversation_applies_next_time(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await start_conversation(obs, device)
        await _ok(obs, device, "model/set", {"model": "gpt-realtime-mini"})
        state = (await obs.expect(topics.state, _where("model", "gpt-realtime-mini"))).json()
        # The conversation goes on with the old model; the new one is what comes next.
        assert state["status"] == "listening"
        assert (state["model"], state["active_model"]) == ("gpt-realtime-mini", "gpt-realtime")
        assert device.changes[-1].diff == {"openai.model": ("gpt-realtime", "gpt-realtime-mini")}
        assert [c.model for c in sim.connections] == ["gpt-realtime"]

        await _ok(obs, device, "conversation/stop", {})
        await obs.status(device, "idle")
        state = await start_conversation(obs, device)
        assert state["active_model"] == "gpt-realtime-mini"
        assert [c.model for c in sim.connections] == ["gpt-realtime", "gpt-realtime-mini"]


async def test_a_conversation_and_its_function_call_round_trip_over_mqtt(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim, tools=[LIGHT_TOOL])
    device = build_device(cfg, sim=sim)
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        assert (await obs.status(device, "idle"))["connected"] is False
        listening = await start_conversation(obs, device)
        assert listening["connected"] is True
        await device.mic.play(REQUEST)  # the sim's first turn: the kitchen light

        call = (await obs.expect(topics.event("function_call"))).json()
        assert (call["name"], json.loads(call["arguments"])) == (
            "set_light",
            {"room": "kitchen", "state": "on"},
        )
        await _ok(
            obs,
            device,
            "function_call/result",
            {"call_id": call["call_id"], "output": {"on": True}},
        )
        said = await obs.expect(topics.event("transcript"), _where("role", "assistant"))
        assert said.json()["text"] == "The kitchen light is on."
        # The model got the flow's output as the call's output.
        outputs = [
            e["item"]
            for _, e in sim.received
            if e["type"] == "conversation.item.create"
            and e["item"]["type"] == "function_call_output"
        ]
        assert [(o["call_id"], o["output"]) for o in outputs] == [(call["call_id"], '{"on":true}')]

        again = await obs.request(
            device, "function_call/result", {"call_id": call["call_id"], "error": "x"}
        )
        assert again["status"] == "error" and "no pending function call" in again["error"]
        event = (await obs.expect(topics.event("error"))).json()
        assert (event["code"], event["transaction"]) == ("unknown_call", again["transaction"])

        await start_conversation(obs, device)  # a follow-up window ended; start again, then stop
        await obs.publish(f"{topics.base}/conversation/stop", "stop")
        await obs.expect(topics.response, lambda m: m.json()["topic"].endswith("/stop"))
        # Idle, and the session is closed rather than kept warm.
        await obs.expect(topics.state, lambda m: m.json() | IDLE_CLOSED == m.json())
    assert device.store.version == 0, "conversation commands leave the config alone"


async def test_tools_device_overrides_shared_and_empty_payload_removes(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    base = unique_base()
    device = build_device(make_config(mqtt_broker, tmp_path, base=base, sim=sim))
    shared = json.dumps({"description": "shared light", "parameters": {"type": "object"}})
    mine = json.dumps({"description": "kitchen light", "parameters": {"type": "object"}})
    async with observer(mqtt_broker, f"{base}/#") as obs:
        # Declared before the device starts: retained, so it replays on subscription.
        await obs.publish(f"{base}/tools/set_light", shared, retain=True)
        await obs.publish(f"{base}/tools/read_sensor", shared, retain=True)
        try:
            async with running(device):
                await start_conversation(obs, device)
                tools = _session_tools(sim, 0)
                assert {"set_light", "read_sensor"} <= set(tools)
                assert tools["set_light"] == "shared light"
                await _ok(obs, device, "conversation/stop", {})

                await obs.publish(f"{device.topics.base}/tools/set_light", mine, retain=True)
                await obs.publish(f"{base}/tools/read_sensor", b"", retain=True)
                await obs.publish(
                    f"{device.topics.base}/tools/bad", '{"parameters": 3}', retain=True
                )
                error = (await obs.expect(device.topics.event("error"))).json()
                assert error["source_topic"] == f"{device.topics.base}/tools/bad"
                since = len(sim.received)
                await start_conversation(obs, device)
                tools = _session_tools(sim, since)
                assert "read_sensor" not in tools and "bad" not in tools
                assert tools["set_light"] == "kitchen light"
                answered = [m.json()["topic"] for m in obs.on(device.topics.response)]
                assert not [t for t in answered if "/tools/" in t], "tool topics are not answered"
        finally:
            for topic in (f"{base}/tools/set_light", f"{device.topics.base}/tools/set_light"):
                await obs.publish(topic, b"", retain=True)
            await obs.publish(f"{device.topics.base}/tools/bad", b"", retain=True)


async def test_a_tool_declared_after_a_conversation_reaches_the_next_one(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    # The session stays warm after a conversation (idle_timeout_s); it must not keep the model
    # blind to a tool a flow declared since.
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim))
    topics = device.topics
    tool = json.dumps({"description": "read a sensor", "parameters": {"type": "object"}})
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await ask(obs, device)
        await obs.expect(topics.event("response"))
        assert (await obs.status(device, "idle"))["connected"] is True  # warm
        try:
            await obs.publish(f"{topics.base}/tools/read_sensor", tool, retain=True)
            await obs.expect(f"{topics.base}/tools/read_sensor")
            since = len(sim.received)
            await start_conversation(obs, device)
            assert "read_sensor" in _session_tools(sim, since)
        finally:
            await obs.publish(f"{topics.base}/tools/read_sensor", b"", retain=True)


async def test_runtime_changes_and_last_good_survive_a_device_restart(
    mqtt_broker: BrokerAddress, sim: RealtimeSimulator, tmp_path: Path
) -> None:
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base(), sim=sim)
    first = build_device(cfg)
    topics = first.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(first):
        await _ok(obs, first, "voice/set", {"voice": "marin"})
        good = await _completed(obs, first)
        assert (good["version"], good["voice"]["primary"]) == (1, "marin")
    again = build_device(cfg)  # a new process on the same state file
    assert again.store.effective.voice.primary == "marin"
    assert again.store.last_good is not None and again.store.last_good.voice.primary == "marin"
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(again):
        config = (await obs.expect(topics.config)).json()
        assert config["voice"]["primary"] == "marin"
        assert config["version"] == first.store.version
        assert (await obs.expect(topics.config_last_good)).json()["version"] == 1
        assert (await obs.status(again, "idle"))["voice"] == "marin"

"""Every command round trip: state echo, `response` with the transaction, config re-published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_mqtt_harness import (
    Device,
    Observer,
    build_device,
    connected_state,
    make_config,
    observer,
    running,
    unique_base,
)
from tests.support.broker import BrokerAddress

pytestmark = pytest.mark.broker


async def _ok(obs: Observer, device: Device, suffix: str, payload: dict[str, object]) -> None:
    answer = await obs.request(device, suffix, payload)
    assert answer["status"] == "ok", answer
    assert answer["topic"] == f"{device.topics.base}/{suffix}"


async def _state_and_config(
    obs: Observer, device: Device
) -> tuple[dict[str, object], dict[str, object]]:
    state = (await obs.expect(device.topics.state)).json()
    config = (await obs.expect(device.topics.config, lambda m: m.json()["version"] > 0)).json()
    return state, config


async def test_model_selection_voice_and_config_set_echo_state_and_config(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await _ok(obs, device, "model/set", {"model": "gpt-realtime-mini"})
        state, config = await _state_and_config(obs, device)
        assert state["model"] == "gpt-realtime-mini"
        assert config["openai"]["model"] == "gpt-realtime-mini"  # type: ignore[index]
        assert config["version"] == device.store.version == 1

        await _ok(obs, device, "model_selection/set", {"model_selection": "legacy"})
        await obs.expect(topics.state, lambda m: m.json()["model_selection"] == "legacy")

        await _ok(obs, device, "voice/set", {"voice": "ash"})  # on the legacy model too
        assert (await obs.expect(topics.state)).json()["voice"] == "ash"

        await _ok(obs, device, "config/set", {"budget": {"daily_usd": 2.5}})
        config = (await obs.expect(topics.config, lambda m: m.json()["version"] == 4)).json()
        assert config["budget"]["daily_usd"] == 2.5
        assert [c.version for c in device.changes] == [1, 2, 3, 4]
    assert device.store.effective.openai.model_selection == "legacy"


async def test_plain_payloads_from_home_assistant_are_answered_without_transaction(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        await obs.publish(f"{topics.base}/voice/set", "marin")
        answer = (await obs.expect(topics.response)).json()
        assert answer == {"topic": f"{topics.base}/voice/set", "status": "ok", "ts": answer["ts"]}
        assert (await obs.expect(topics.state)).json()["voice"] == "marin"


async def test_rollback_to_last_good_and_to_the_legacy_profile(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        answer = await obs.request(device, "config/rollback", {})
        assert answer["status"] == "error" and "no last known good" in answer["error"]

        assert device.store.mark_good()  # a conversation completed with version 0 (announced)
        good = (await obs.expect(topics.config_last_good)).json()
        assert (good["version"], good["openai"]["model"]) == (0, "gpt-realtime")

        await _ok(obs, device, "model/set", {"model": "gpt-realtime-mini"})
        await _ok(obs, device, "config/rollback", {"target": "last_good"})
        await obs.expect(topics.state, lambda m: m.json()["model"] == "gpt-realtime")
        assert device.store.effective.openai.model == "gpt-realtime"

        await obs.publish(f"{topics.base}/config/rollback", "legacy")
        await obs.expect(topics.response, lambda m: m.json()["status"] == "ok")
        config = (await obs.expect(topics.config, lambda m: m.json()["version"] == 3)).json()
        assert config["openai"]["model_selection"] == "legacy"
        assert config["openai"]["disable_new_features"] is True
        await obs.expect(topics.state, lambda m: m.json()["model_selection"] == "legacy")


async def test_model_change_during_a_conversation_applies_next_time(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    busy = connected_state("responding")
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(device):
        device.bus.publish(busy)
        await obs.expect(topics.state, lambda m: m.json()["status"] == "responding")
        await _ok(obs, device, "model/set", {"model": "gpt-realtime-mini"})
        state = (await obs.expect(topics.state)).json()
        # The conversation goes on with the old model; the new one is what comes next.
        assert state["status"] == "responding"
        assert (state["model"], state["active_model"]) == ("gpt-realtime-mini", "gpt-realtime")
        assert device.changes[-1].diff == {"openai.model": ("gpt-realtime", "gpt-realtime-mini")}


async def test_conversation_and_function_call_commands_reach_the_control(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    control = device.control
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        await _ok(obs, device, "conversation/start", {})
        assert (control.starts, control.running) == (1, True)

        control.expect_calls(["call_1"])
        await _ok(
            obs, device, "function_call/result", {"call_id": "call_1", "output": {"on": True}}
        )
        assert control.results == [("call_1", '{"on":true}', None)]

        again = await obs.request(
            device, "function_call/result", {"call_id": "call_1", "error": "x"}
        )
        assert again["status"] == "error" and "no pending function call" in again["error"]
        event = (await obs.expect(device.topics.event("error"))).json()
        assert (event["code"], event["transaction"]) == ("unknown_call", again["transaction"])

        await obs.publish(f"{device.topics.base}/conversation/stop", "stop")
        await obs.expect(device.topics.response, lambda m: m.json()["status"] == "ok")
        assert (control.stops, control.running) == (1, False)
    assert device.store.version == 0, "conversation commands leave the config alone"


async def test_tools_device_overrides_shared_and_empty_payload_removes(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base = unique_base()
    device = build_device(make_config(mqtt_broker, tmp_path, base=base))
    control = device.control
    shared = json.dumps({"description": "shared light", "parameters": {"type": "object"}})
    mine = json.dumps({"description": "kitchen light", "parameters": {"type": "object"}})
    async with observer(mqtt_broker, f"{base}/#") as obs:
        # Declared before the device starts: retained, so it replays on subscription.
        await obs.publish(f"{base}/tools/set_light", shared, retain=True)
        await obs.publish(f"{base}/tools/read_sensor", shared, retain=True)
        async with running(device):
            assert set(control.tools) == {"set_light", "read_sensor"}
            assert control.tool_updates == 1, "the retained replay is announced once"
            await obs.publish(f"{device.topics.base}/tools/set_light", mine, retain=True)
            await obs.publish(f"{base}/tools/read_sensor", b"", retain=True)
            await obs.publish(f"{device.topics.base}/tools/bad", '{"parameters": 3}', retain=True)
            error = (await obs.expect(device.topics.event("error"))).json()
            assert error["source_topic"] == f"{device.topics.base}/tools/bad"
            assert set(control.tools) == {"set_light"}
            assert control.tools["set_light"].description == "kitchen light"
            assert not obs.on(device.topics.response), "tool topics are not answered"
        for topic in (f"{base}/tools/set_light", f"{device.topics.base}/tools/set_light"):
            await obs.publish(topic, b"", retain=True)
        await obs.publish(f"{device.topics.base}/tools/bad", b"", retain=True)


async def test_runtime_changes_and_last_good_survive_a_device_restart(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base())
    first = build_device(cfg)
    topics = first.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(first):
        await _ok(obs, first, "voice/set", {"voice": "marin"})
        assert first.store.mark_good()
        await obs.expect(topics.config_last_good)
    again = build_device(cfg)  # a new process on the same state file
    assert again.store.effective.voice.primary == "marin"
    assert again.store.last_good is not None and again.store.last_good.voice.primary == "marin"
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(again):
        config = (await obs.expect(topics.config)).json()
        assert config["voice"]["primary"] == "marin"
        assert config["version"] == first.store.version
        assert (await obs.expect(topics.state)).json()["voice"] == "marin"

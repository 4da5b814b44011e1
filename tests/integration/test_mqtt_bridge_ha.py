"""Home Assistant: discovery for every entity, re-publish on HA's birth, stale entities removed."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from edge_voice.mqtt.discovery import ENTITIES, discovery_configs
from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import build_device, make_config, running

pytestmark = pytest.mark.broker


async def test_discovery_configs_arrive_retained_for_every_entity(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base())
    device = build_device(cfg)
    expected = discovery_configs(cfg)
    # + profile, false wakes (2), hey_jarvis numbers (2), the announce notify (memory is off)
    assert len(expected) == len(ENTITIES) + 6
    async with running(device):
        pass
    # Retained: a client arriving after the device (HA after a restart) gets them all.
    async with observer(mqtt_broker, device.topics.discovery_filter) as obs:
        for topic, payload in expected.items():
            seen = await obs.expect(topic)
            assert seen.retain and seen.qos == 1
            assert seen.json() == json.loads(json.dumps(payload))


async def test_ha_birth_republishes_discovery_availability_and_state(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base())
    device = build_device(cfg)
    topics = device.topics
    voice_select = topics.discovery("select", "voice")
    async with observer(mqtt_broker, voice_select, f"{topics.base}/#") as obs, running(device):
        await obs.request(device, "model/set", {"model": "gpt-realtime-mini"})
        await obs.barrier(device)  # every state of the change has arrived
        mark = len(obs.messages)
        selects, online = len(obs.on(voice_select)), len(obs.on(topics.availability))
        await obs.publish(cfg.mqtt.ha_status_topic, "offline")  # HA's will: nothing to do
        await obs.publish(cfg.mqtt.ha_status_topic, "online")
        # Published last, after discovery and availability.
        state = await obs.expect(topics.state, since=mark)
        assert state.json()["model"] == "gpt-realtime-mini"
        assert len(obs.on(voice_select)) == selects + 1
        assert len(obs.on(topics.availability)) == online + 1
        assert obs.on(topics.availability)[-1].payload == b"online"


async def test_model_change_republishes_the_voice_select_with_the_models_voices(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    voice_select = device.topics.discovery("select", "voice")
    filters = (device.topics.discovery_filter, f"{device.topics.base}/#")
    async with observer(mqtt_broker, *filters) as obs:
        async with running(device):
            assert "cedar" in (await obs.expect(voice_select)).json()["options"]
            await obs.request(device, "model_selection/set", {"model_selection": "legacy"})
            options = (await obs.expect(voice_select)).json()["options"]
            assert "cedar" not in options and "ash" in options
        # Unchanged entities were not re-published with the change.
        assert len(obs.on(device.topics.discovery("sensor", "cost_total"))) == 1


async def test_the_state_offers_what_the_selects_offer_and_follows_the_model(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    topics = device.topics
    model_select, voice_select = (topics.discovery("select", k) for k in ("model", "voice"))
    filters = (topics.discovery_filter, f"{topics.base}/#")
    async with observer(mqtt_broker, *filters) as obs, running(device):
        state = (await obs.expect(topics.state)).json()
        assert state["models"] == (await obs.expect(model_select)).json()["options"]
        assert state["voices"] == (await obs.expect(voice_select)).json()["options"]
        assert "cedar" in state["voices"] and "gpt-realtime-mini" in state["models"]
        await obs.request(device, "model_selection/set", {"model_selection": "legacy"})
        legacy = await obs.expect(topics.state, lambda m: m.json()["model_selection"] == "legacy")
        assert "cedar" not in legacy.json()["voices"] and "ash" in legacy.json()["voices"]


async def test_stale_entities_of_this_device_are_cleared_and_others_left_alone(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    cfg = make_config(mqtt_broker, tmp_path, base=unique_base())
    topics = build_device(cfg).topics
    stale = topics.discovery("sensor", "old_entity")
    other = topics.discovery("sensor", "old_entity").replace(
        "edge_voice_kitchen", "edge_voice_hall"
    )
    async with observer(mqtt_broker, stale, other) as obs:
        await obs.publish(stale, '{"name": "Old"}', retain=True)
        await obs.publish(other, '{"name": "Hall"}', retain=True)
        await obs.expect(stale)
        await obs.expect(other)
        async with running(build_device(cfg)):
            cleared = await obs.expect(stale)
            assert cleared.payload == b""
        assert len(obs.on(other)) == 1
    async with observer(mqtt_broker, stale, other) as late:
        assert (await late.expect(other)).payload == b'{"name": "Hall"}'
        assert not late.on(stale), "the broker no longer holds the stale config"
    async with observer(mqtt_broker) as cleanup:
        await cleanup.publish(other, b"", retain=True)


async def test_after_state_dir_is_wiped_the_edited_file_wins_over_the_retained_config(
    mqtt_broker: BrokerAddress, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = unique_base()
    first = build_device(make_config(mqtt_broker, tmp_path / "a", base=base))
    async with observer(mqtt_broker, f"{base}/#") as obs:
        async with running(first):
            await obs.request(first, "voice/set", {"voice": "marin"})
            await obs.expect(first.topics.config, lambda m: m.json()["version"] == 1)
        # state_dir wiped, and the file edited: a longer follow-up window.
        caplog.set_level(logging.INFO, logger="edge_voice")
        caplog.clear()
        edited = make_config(
            mqtt_broker, tmp_path / "wiped", base=base, conversation={"follow_up_s": 3.0}
        )
        fresh = build_device(edited)
        async with running(fresh):
            assert fresh.store.effective.conversation.follow_up_s == 3.0
            assert fresh.store.effective.voice.primary == "cedar"  # the file's, not marin
            config = await obs.expect(fresh.topics.config, lambda m: m.json()["version"] == 2)
            assert config.json()["conversation"]["follow_up_s"] == 3.0
            assert config.json()["voice"]["primary"] == "cedar"
        assert [c.source for c in fresh.changes] == ["config file (over the retained config)"]
    said = [r for r in caplog.records if "retained config" in r.getMessage()]
    assert all(r.levelno < logging.WARNING for r in said), [r.getMessage() for r in said]
    notes = [r.getMessage() for r in said if "not adopting" in r.getMessage()]
    assert len(notes) == 1 and "conversation.follow_up_s, voice.primary" in notes[0], notes
    async with observer(mqtt_broker, fresh.topics.config) as late:  # what a new HA sees
        retained = (await late.expect(fresh.topics.config)).json()
        assert (retained["version"], retained["voice"]["primary"]) == (2, "cedar")


async def test_a_fresh_device_adopts_the_retained_config_and_a_known_one_does_not(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base = unique_base()
    first = build_device(make_config(mqtt_broker, tmp_path / "a", base=base))
    async with observer(mqtt_broker, f"{base}/#") as obs:
        async with running(first):
            await obs.request(first, "voice/set", {"voice": "marin"})
            await obs.expect(first.topics.config, lambda m: m.json()["version"] == 1)
        # The same device on new hardware: no state file, the broker still has its config,
        # and the file asks for it.
        adopting = {"adopt_retained_config": True}
        fresh = build_device(make_config(mqtt_broker, tmp_path / "b", base=base, mqtt=adopting))
        assert fresh.store.can_adopt
        async with running(fresh):
            assert fresh.store.effective.voice.primary == "marin"
            assert fresh.changes and fresh.changes[0].source.startswith("mqtt:config")
            config = await obs.expect(fresh.topics.config, lambda m: m.json()["version"] == 2)
            assert config.json()["voice"]["primary"] == "marin"
            state = await obs.expect(fresh.topics.state, lambda m: m.json()["voice"] == "marin")
            assert state.json()["status"] == "idle"
        # A device with a state file keeps its own config.
        known = build_device(make_config(mqtt_broker, tmp_path / "a", base=base, mqtt=adopting))
        known.store.apply_patch({"voice": {"primary": "sage"}})
        async with running(known):
            assert known.store.effective.voice.primary == "sage"

"""Runtime overrides on the real service and broker: kept across a restart, announced at
start-up when they hide an edit of the config file, dropped with `config/reset`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import build_device, make_config, running

pytestmark = pytest.mark.broker

LOGGER = "edge_voice.config.overrides"


async def test_override_restart_with_edited_file_then_reset_over_mqtt(
    mqtt_broker: BrokerAddress, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = unique_base()
    first = build_device(make_config(mqtt_broker, tmp_path, base=base))
    topics = first.topics
    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(first):
        for suffix, body in (
            ("voice/set", {"voice": "marin"}),
            ("config/set", {"budget": {"daily_usd": 2.5}}),
        ):
            answer = await obs.request(first, suffix, body)
            assert answer["status"] == "ok", answer

    # The user edits the file (voice ash) and restarts: the override still wins, loudly.
    edited = make_config(mqtt_broker, tmp_path, base=base, voice={"primary": "ash"})
    caplog.set_level(logging.INFO, logger=LOGGER)
    again = build_device(edited)
    [block] = [r for r in caplog.records if r.name == LOGGER]
    assert block.levelno == logging.WARNING
    text = block.getMessage()
    assert "2 runtime override(s) kept in" in text and "1 of them hide an edit" in text
    assert 'voice.primary = "marin" (mqtt:voice/set, ' in text
    assert 'the config file says "ash" (edited since the last start, was "cedar")' in text
    assert "budget.daily_usd = 2.5 (mqtt:config/set, " in text
    assert f"{topics.base}/config/reset" in text
    assert again.store.effective.voice.primary == "marin"

    async with observer(mqtt_broker, f"{topics.base}/#") as obs, running(again):
        assert (await obs.expect(topics.config)).json()["voice"]["primary"] == "marin"
        bad = await obs.request(again, "config/reset", {"keys": ["voice.primry"]})
        assert bad["status"] == "error" and "'voice.primry' is not a config key" in bad["error"]
        error = await obs.expect(topics.event("error"))
        assert error.json()["code"] == "unknown_field"
        assert again.store.effective.voice.primary == "marin"  # nothing changed

        answer = await obs.request(again, "config/reset", {"keys": ["voice.primary"]})
        assert answer["status"] == "ok", answer
        config = await obs.expect(topics.config, lambda m: m.json()["voice"]["primary"] == "ash")
        assert config.json()["budget"]["daily_usd"] == 2.5  # not among the keys
        state = await obs.expect(topics.state, lambda m: m.json()["voice"] == "ash")
        assert state.json()["status"] == "idle"

        await obs.publish(f"{topics.base}/config/reset", b"")  # what the HA button sends: all
        config = await obs.expect(topics.config, lambda m: m.json()["budget"]["daily_usd"] is None)
        assert config.json()["voice"]["primary"] == "ash"
        assert again.store.runtime_overrides == {}

    caplog.clear()
    build_device(edited)  # no overrides left: no block
    assert [r for r in caplog.records if r.name == LOGGER] == []

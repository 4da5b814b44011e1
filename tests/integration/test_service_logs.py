"""What the service says in its log: a config change once, a ready line (see tests/e2e too)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.broker import BrokerAddress
from tests.support.mqtt_observer import observer, unique_base
from tests.support.service_device import build_device, make_config, running

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("command", "payload", "key"),
    [
        ("config/set", {"budget": {"daily_usd": 2.5}}, "budget.daily_usd"),
        ("model/set", {"model": "gpt-realtime-2.1"}, "openai.model"),
        ("voice/set", {"voice": "marin"}, "voice.primary"),
        ("model_selection/set", {"model_selection": "new"}, "openai.model_selection"),
    ],
)
async def test_a_config_change_is_logged_once(
    mqtt_broker: BrokerAddress,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    command: str,
    payload: dict[str, object],
    key: str,
) -> None:
    caplog.set_level(logging.INFO)
    device = build_device(make_config(mqtt_broker, tmp_path, base=unique_base()))
    async with running(device), observer(mqtt_broker, f"{device.topics.base}/#") as obs:
        answer = await obs.request(device, command, payload)
        assert answer["status"] == "ok", answer
        await obs.barrier(device)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("config version")]
    assert len(said) == 1 and said[0].endswith(key), said


async def test_adopting_the_retained_config_is_logged_once(
    mqtt_broker: BrokerAddress, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base = unique_base()
    first = build_device(make_config(mqtt_broker, tmp_path / "a", base=base))
    async with observer(mqtt_broker, f"{base}/#") as obs:
        async with running(first):
            await obs.request(first, "voice/set", {"voice": "marin"})
            await obs.expect(first.topics.config, lambda m: m.json()["version"] == 1)
        caplog.set_level(logging.INFO)
        caplog.clear()
        adopting = {"adopt_retained_config": True}
        fresh = build_device(make_config(mqtt_broker, tmp_path / "b", base=base, mqtt=adopting))
        async with running(fresh):
            await obs.expect(fresh.topics.config, lambda m: m.json()["version"] == 2)
    said = [r.getMessage() for r in caplog.records if "retained" in r.getMessage()]
    assert said[1:] == ["config version 2 from mqtt:config (retained): voice.primary"], said
    # Adopted over the file: a warning says what, and how to keep the file's values instead.
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [m for m in warned if "retained" in m] == said[:1], said
    assert "over the config file: voice.primary;" in said[0]
    assert "set mqtt.adopt_retained_config: false" in said[0]
